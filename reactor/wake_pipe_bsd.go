//go:build netbsd || openbsd

package reactor

import (
	"fmt"

	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// waker wakes a kqueue through a self-pipe, on the systems where x/sys has
// no EVFILT_USER. The read end is registered level-triggered, like the
// eventfd on Linux: a wait that returns before it drains the pipe (its
// event buffer full) still reports the wake-up next time. The write end is
// non-blocking: a full pipe means that a wake-up is pending anyway.
type waker struct{ r, w int }

func (w *waker) open(kq int, abi *kqueueABI) error {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("reactor: pipe2: %w", err)
	}
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], fds[0], unix.EVFILT_READ, unix.EV_ADD)
	if _, err := unix.Kevent(kq, ch[:], nil, nil); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return fmt.Errorf("reactor: kevent add wake-up pipe: %w", err)
	}
	w.r, w.w = fds[0], fds[1]
	abi.wakeFilter, abi.wakeIdent = unix.EVFILT_READ, uint64(fds[0])
	return nil
}

var wakeByte = []byte{1}

func (w *waker) trigger() error {
	_, err := sock.IgnoringEINTR(func() (int, error) { return unix.Write(w.w, wakeByte) })
	if err != nil && err != unix.EAGAIN {
		return fmt.Errorf("reactor: wake-up pipe write: %w", err)
	}
	return nil
}

// drain empties the pipe, so that the wake-up is reported once.
func (w *waker) drain() {
	var buf [64]byte
	for {
		n, err := sock.IgnoringEINTR(func() (int, error) { return unix.Read(w.r, buf[:]) })
		if err != nil || n < len(buf) {
			return
		}
	}
}

func (w *waker) close() error {
	err1 := unix.Close(w.r)
	err2 := unix.Close(w.w)
	if err1 != nil {
		return err1
	}
	return err2
}
