package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Send makes one non-blocking send of p with SendFlags and returns how much
// the kernel took; EINTR is retried. It is send(2) itself (sendto without an
// address): x/sys offers only sendmsg with a count, whose message header
// costs a 64-byte echo a measurable share of its time, and Sendto without
// one.
func Send(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	return IgnoringEINTR(func() (int, error) {
		n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(ptr), uintptr(len(p)), SendFlags, 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	})
}
