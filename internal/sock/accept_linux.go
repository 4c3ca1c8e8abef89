package sock

import "golang.org/x/sys/unix"

// acceptOnce makes one accept(2) without waiting; see Accept.
//
// The peer's address is not asked for: it is unnamed for every client of a
// local server, and x/sys's Accept4 would allocate it for each connection,
// garbage that counts against a server holding thousands of sessions.
func acceptOnce(fd int) (int, error) {
	nfd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(nfd), nil
}
