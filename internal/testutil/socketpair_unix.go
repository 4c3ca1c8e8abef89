//go:build unix

package testutil

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Socketpair returns the two ends of a connected AF_UNIX stream socket,
// non-blocking and close-on-exec, the way localipc makes its own. Closing
// them is the caller's.
func Socketpair(t testing.TB) (a, b int) {
	t.Helper()
	// SOCK_NONBLOCK and SOCK_CLOEXEC are not flags of socketpair(2) on every
	// Unix (macOS has neither), so they are set afterwards, under ForkLock
	// like the standard library does, so that no child inherits the ends.
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	require.NoError(t, err)
	for _, fd := range fds {
		require.NoError(t, unix.SetNonblock(fd, true))
	}
	return fds[0], fds[1]
}
