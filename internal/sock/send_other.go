//go:build unix && !linux

package sock

import "golang.org/x/sys/unix"

// Send makes one non-blocking send of p with SendFlags and returns how much
// the kernel took; EINTR is retried.
func Send(fd int, p []byte) (int, error) {
	return IgnoringEINTR(func() (int, error) { return unix.SendmsgN(fd, p, nil, nil, SendFlags) })
}
