// Package testutil holds the helpers that the tests of several packages
// share: bounded waits and descriptor counts. Tests only.
package testutil

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Within returns what ch delivers, failing the test if nothing comes within
// d: every wait of the tests is bounded this way.
func Within[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		require.FailNow(t, "timed out waiting for "+what)
	}
	var zero T
	return zero
}

// Async runs f in a goroutine and returns a channel with its result.
func Async[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

// OpenFDs counts the process's open descriptors (Linux: /proc/self/fd).
func OpenFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}
