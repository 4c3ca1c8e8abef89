//go:build netbsd || openbsd || (solaris && !illumos)

package sock

import "golang.org/x/sys/unix"

// acceptOnce makes one accept(2) without waiting; see Accept.
func acceptOnce(fd int) (int, error) {
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
