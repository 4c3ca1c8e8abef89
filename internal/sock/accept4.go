//go:build dragonfly || freebsd || illumos

package sock

import "golang.org/x/sys/unix"

// acceptOnce makes one accept(2) without waiting; see Accept.
func acceptOnce(fd int) (int, error) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	return nfd, nil
}
