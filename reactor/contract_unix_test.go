//go:build unix

package reactor

import (
	"io"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// contractEnd is the far end of a pair, driven by the poller contract test.
type contractEnd struct{ fd int }

// contractPair returns a non-blocking handle to register and its peer: a
// stream socketpair, closed at the end of the test.
func contractPair(t *testing.T) (uintptr, contractEnd) {
	t.Helper()
	fd, peerFD := testutil.Socketpair(t)
	peer := contractEnd{fd: peerFD}
	t.Cleanup(func() {
		unix.Close(fd)
		unix.Close(peer.fd) // EBADF if the test closed it already
	})
	return uintptr(fd), peer
}

func (e contractEnd) write(t *testing.T, p []byte) {
	t.Helper()
	n, err := unix.Write(e.fd, p)
	require.NoError(t, err)
	require.Equal(t, len(p), n)
}

// readN reads n bytes, waiting for them; any goroutine.
func (e contractEnd) readN(n int) readResult {
	out := make([]byte, 0, n)
	buf := make([]byte, 64<<10)
	for len(out) < n {
		m, err := unix.Read(e.fd, buf[:min(len(buf), n-len(out))])
		switch {
		case err == unix.EAGAIN:
			pfd := []unix.PollFd{{Fd: int32(e.fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(pfd, 1000); err != nil && err != unix.EINTR {
				return readResult{out, err}
			}
			continue
		case err != nil:
			return readResult{out, err}
		case m == 0:
			return readResult{out, io.ErrUnexpectedEOF}
		}
		out = append(out, buf[:m]...)
	}
	return readResult{out, nil}
}

func (e contractEnd) close(t *testing.T) {
	t.Helper()
	require.NoError(t, unix.Close(e.fd))
}

// drain reads h until EAGAIN and returns what it read.
func drain(t *testing.T, h uintptr) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 64)
	for {
		n, err := unix.Read(int(h), buf)
		if err == unix.EAGAIN {
			return out
		}
		require.NoError(t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func readableWithin(t *testing.T, fd uintptr, d time.Duration) bool {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, int(d/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		require.NoError(t, err)
		return n == 1
	}
}

// openHandles counts the process's open descriptors.
func openHandles(t *testing.T) int {
	t.Helper()
	n := 0
	for fd := 0; fd < 4096; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

// pollerHandles counts what a poller may leave open: on Unix, any descriptor.
func pollerHandles(t *testing.T) int { return openHandles(t) }
