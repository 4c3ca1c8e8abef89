package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// macOS has neither SOCK_NONBLOCK/SOCK_CLOEXEC nor accept4: close-on-exec is
// set under syscall.ForkLock, which keeps os/exec from forking before it is.
// SO_NOSIGPIPE, which every macOS release honours, goes on every socket
// instead of MSG_NOSIGNAL on every send.

func newSocket() (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := setup(fd); err != nil {
		return -1, err
	}
	return fd, nil
}

// acceptOnce makes one accept(2) without waiting; see Accept.
func acceptOnce(fd int) (int, error) {
	nfd, err := acceptCloexec(fd)
	if err != nil {
		return -1, err
	}
	if err := setup(nfd); err != nil {
		return -1, err
	}
	return nfd, nil
}

// setup makes fd non-blocking and silent on a dead peer, or closes it.
func setup(fd int) error {
	err := unix.SetNonblock(fd, true)
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
	}
	if err != nil {
		unix.Close(fd)
	}
	return err
}
