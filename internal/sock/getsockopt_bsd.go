//go:build dragonfly || freebsd || netbsd

package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// getsockoptBytes is getsockopt(2) into b, for the structures x/sys has no
// getter for; it returns how many bytes the kernel wrote. These systems
// take the system call directly, as x/sys's own getsockopt does there
// (OpenBSD, whose Go reaches the kernel only through libc, cannot).
func getsockoptBytes(fd, level, opt int, b []byte) ([]byte, error) {
	n := uint32(len(b)) // socklen_t
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return nil, errno
	}
	return b[:min(int(n), len(b))], nil
}
