//go:build unix

package session_test

import (
	"syscall"
	"testing"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// socketpair returns the two ends of a connected AF_UNIX stream socket,
// non-blocking and close-on-exec, as New and Attach take them. Whoever gets
// an end owns it; the caller closes neither.
func socketpair(t testing.TB) (a, b uintptr) {
	t.Helper()
	fa, fb := testutil.Socketpair(t)
	return uintptr(fa), uintptr(fb)
}

// fillSendBuffer writes to the descriptor behind rc until the kernel takes
// no more, so that the next Write of a session on it blocks until the peer
// reads. It returns how many bytes it wrote.
func fillSendBuffer(t testing.TB, rc syscall.RawConn) int {
	t.Helper()
	total := 0
	var werr error
	chunk := make([]byte, 64<<10)
	require.NoError(t, rc.Control(func(fd uintptr) {
		for {
			n, err := unix.Write(int(fd), chunk)
			switch err {
			case nil:
				total += n
			case unix.EINTR:
			case unix.EAGAIN:
				return
			default:
				werr = err
				return
			}
		}
	}))
	require.NoError(t, werr)
	return total
}

// writeToClosedPeer is the errno of a Write whose peer has closed.
var writeToClosedPeer error = unix.EPIPE

// closedWithUnread is what a Read gets when its peer closed with bytes of
// ours unread: the socket reports a reset.
var closedWithUnread error = ipcerr.ErrBrokenPipe
