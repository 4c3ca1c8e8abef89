//go:build unix && !linux

package sock

import "golang.org/x/sys/unix"

// Peek reports whether a read would return data now, without consuming it:
// (1, nil) for data, (0, nil) for the end of the stream, EAGAIN for nothing
// yet.
func Peek(fd int) (int, error) {
	var b [1]byte
	return IgnoringEINTR(func() (int, error) {
		n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return n, err
	})
}
