package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peek reports whether a read would return data now, without consuming it:
// (1, nil) for data, (0, nil) for the end of the stream, EAGAIN for nothing
// yet. It is recv(2) itself: x/sys's Recvfrom allocates the sender's
// address on every call, and WaitForData peeks on every call.
func Peek(fd int) (int, error) {
	var b byte
	return IgnoringEINTR(func() (int, error) {
		n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b)), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	})
}
