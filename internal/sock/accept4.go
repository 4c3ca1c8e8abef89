//go:build dragonfly || freebsd || illumos

package sock

import "golang.org/x/sys/unix"

// Accept accepts one connection without waiting. The new descriptor is
// non-blocking and close-on-exec from the start. EAGAIN, EINTR and
// ECONNABORTED come back as they are, for the caller to park or retry.
func Accept(fd int) (int, error) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	return nfd, nil
}
