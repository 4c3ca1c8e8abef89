//go:build dragonfly || freebsd || linux || netbsd || openbsd || solaris

package sock

import "golang.org/x/sys/unix"

// newSocket sets both flags in socket(2) itself, so no fork can inherit the
// descriptor in between.
func newSocket() (int, error) {
	return unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}
