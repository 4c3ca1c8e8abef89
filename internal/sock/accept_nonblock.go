//go:build netbsd || openbsd || (solaris && !illumos)

package sock

import "golang.org/x/sys/unix"

// Accept accepts one connection without waiting; the new descriptor is
// non-blocking and close-on-exec. EAGAIN, EINTR and ECONNABORTED come back
// as they are.
func Accept(fd int) (int, error) {
	nfd, err := acceptCloexec(fd)
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, err
	}
	return nfd, nil
}
