//go:build darwin || dragonfly || freebsd

package reactor

import (
	"fmt"

	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// waker wakes a kqueue with a user event (EVFILT_USER), the systems where
// x/sys has it. The event is EV_CLEAR: reporting it resets it, so any number
// of triggers before a wait make one wake-up, and there is nothing to drain.
type waker struct{ kq int }

func (w *waker) open(kq int, abi *kqueueABI) error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], wakeUserIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)
	if _, err := unix.Kevent(kq, ch[:], nil, nil); err != nil {
		return fmt.Errorf("reactor: kevent add EVFILT_USER: %w", err)
	}
	w.kq = kq
	abi.wakeFilter, abi.wakeIdent = unix.EVFILT_USER, wakeUserIdent
	return nil
}

func (w *waker) trigger() error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], wakeUserIdent, unix.EVFILT_USER, 0)
	ch[0].Fflags = unix.NOTE_TRIGGER
	_, err := sock.IgnoringEINTR(func() (int, error) { return unix.Kevent(w.kq, ch[:], nil, nil) })
	if err != nil {
		return fmt.Errorf("reactor: kevent NOTE_TRIGGER: %w", err)
	}
	return nil
}

func (w *waker) drain() {}

// close has nothing of its own to release: the event goes with the kqueue.
func (w *waker) close() error { return nil }
