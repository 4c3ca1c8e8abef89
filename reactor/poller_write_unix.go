//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import "golang.org/x/sys/unix"

// On epoll and kqueue a write is a non-blocking write(2): it is over when it
// returns, and no buffer stays with the kernel. The sessions above write to
// their sockets themselves, from any goroutine, for that reason; these are
// the contract's, for owners that go through their loop.

func (p *poller) write(fd uintptr, _ token, b []byte) (int, bool, error) {
	n, err := unix.Write(int(fd), b)
	if err == unix.EAGAIN {
		return 0, false, nil // no room: the next writable edge says when
	}
	return max(n, 0), false, err
}

// written has nothing to report: no write is ever pending.
func (p *poller) written(token) (int, bool, error) { return 0, false, nil }
