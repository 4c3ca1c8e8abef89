//go:build !windows

package localipc_test

import "testing"

// skipUnderWine: only Windows binaries run under Wine.
func skipUnderWine(testing.TB, string) {}
