// Package testutil holds the helpers that the tests of several packages
// share: bounded waits and descriptor counts. Tests only.
package testutil

import (
	"os"
	"runtime"
	"slices"
	"strings"
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

// OpenFDs counts the process's open descriptors (Linux: /proc/self/fd;
// Windows: its handles, fds_windows.go).
func OpenFDs(t testing.TB) int {
	t.Helper()
	if n, ok := openHandles(t); ok {
		return n
	}
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// WaitBlocked waits, at most 10 seconds, until n goroutines are asleep in
// one of states (as a goroutine dump prints them: "IO wait",
// "sync.Mutex.Lock", "chan receive", "select") with fn somewhere on their
// stacks. The runtime tells no one that a goroutine went to sleep, so the
// dump is polled: a test of "X wakes a blocked call" then knows the call
// did block before X, instead of hoping that a pause was long enough.
func WaitBlocked(t testing.TB, n int, fn string, states ...string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	asleep := func() int {
		count := 0
		dump := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(dump, "\n\n") {
			header, stack, _ := strings.Cut(g, "\n")
			if strings.Contains(stack, fn) && slices.ContainsFunc(states, func(s string) bool {
				return strings.Contains(header, "["+s+"]") || strings.Contains(header, "["+s+",")
			}) {
				count++
			}
		}
		return count
	}
	for stop := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		got := asleep()
		if got >= n {
			return
		}
		if time.Now().After(stop) {
			require.FailNowf(t, "calls not blocked", "%d goroutine(s) with %s asleep in %q, want %d", got, fn, states, n)
		}
	}
}
