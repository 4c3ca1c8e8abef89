//go:build netbsd || openbsd || (solaris && !illumos)

package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Accept accepts one connection without waiting. These kernels have an
// accept4 (or paccept) that x/sys does not expose, so close-on-exec is set
// under syscall.ForkLock, which keeps os/exec from forking before it is.
// EAGAIN, EINTR and ECONNABORTED come back as they are.
func Accept(fd int) (int, error) {
	syscall.ForkLock.RLock()
	nfd, _, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, err
	}
	return nfd, nil
}
