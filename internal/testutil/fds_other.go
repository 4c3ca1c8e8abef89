//go:build !windows

package testutil

import "testing"

// openHandles: descriptors are counted in /proc/self/fd here.
func openHandles(testing.TB) (int, bool) { return 0, false }
