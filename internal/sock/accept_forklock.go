//go:build darwin || netbsd || openbsd || (solaris && !illumos)

package sock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// acceptCloexec accepts one connection and marks it close-on-exec under
// syscall.ForkLock, which keeps os/exec from forking before the flag is
// set: these kernels have no accept4 that x/sys exposes. EAGAIN, EINTR and
// ECONNABORTED come back as they are, for the caller to park or retry.
func acceptCloexec(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, _, err := unix.Accept(fd)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(nfd)
	return nfd, nil
}
