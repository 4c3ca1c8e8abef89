//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"errors"
	"fmt"

	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// poller is a kqueue. Every fd is added for EVFILT_READ and EVFILT_WRITE at
// once, both EV_CLEAR, so that readiness is edge-triggered as on epoll and a
// registration is never modified: owners read or write until EAGAIN and
// wait for the next edge, and arm has nothing to do.
//
// A kevent names its fd in Ident and nothing else: Udata is a pointer field
// in x/sys, which must not hold an integer token, so the poller reports
// handles and the loop resolves them (Loop.resolve). A closed fd leaves the
// kqueue by itself, and del removes both filters before the owner closes.
//
// The wake-up is EVFILT_USER where x/sys has it (wake_user_bsd.go) and a
// self-pipe on NetBSD and OpenBSD (wake_pipe_bsd.go). kevent.go turns
// kevents into events without the OS, and is tested on Linux.
type poller struct {
	kq    int
	abi   kqueueABI
	waker waker
	evbuf []unix.Kevent_t
	ts    unix.Timespec // wait's timeout, kept here so that it is not allocated
}

func newPoller() (kernelQueue, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, fmt.Errorf("reactor: kqueue: %w", err)
	}
	// No fork inherits a kqueue on these systems; close-on-exec is for
	// clarity, and for a descriptor that outlives a fork by another path.
	unix.CloseOnExec(kq)
	p := &poller{kq: kq, abi: kqueueABI{
		filtRead:  unix.EVFILT_READ,
		filtWrite: unix.EVFILT_WRITE,
		evEOF:     unix.EV_EOF,
		evError:   unix.EV_ERROR,
	}}
	if err := p.waker.open(kq, &p.abi); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

// change applies changes to the kqueue and collects no events.
func (p *poller) change(changes []unix.Kevent_t) error {
	_, err := sock.IgnoringEINTR(func() (int, error) { return unix.Kevent(p.kq, changes, nil, nil) })
	return err
}

func (p *poller) add(fd uintptr, _ token) error {
	var ch [2]unix.Kevent_t
	unix.SetKevent(&ch[0], int(fd), unix.EVFILT_READ, unix.EV_ADD|unix.EV_CLEAR)
	unix.SetKevent(&ch[1], int(fd), unix.EVFILT_WRITE, unix.EV_ADD|unix.EV_CLEAR)
	if err := p.change(ch[:]); err != nil {
		// The read filter may be in when the write filter failed.
		p.del(fd, token{})
		return fmt.Errorf("reactor: kevent add fd %d: %w", int(fd), err)
	}
	return nil
}

// arm has nothing to do: an EV_CLEAR registration stays armed.
func (p *poller) arm(uintptr, token, Events) error { return nil }

func (p *poller) del(fd uintptr, _ token) (draining bool, err error) {
	// One call each: a change that fails stops kevent before the next one.
	var errs [2]error
	for i, filter := range [2]int{unix.EVFILT_READ, unix.EVFILT_WRITE} {
		var ch [1]unix.Kevent_t
		unix.SetKevent(&ch[0], int(fd), filter, unix.EV_DELETE)
		if err := p.change(ch[:]); err != nil {
			errs[i] = fmt.Errorf("reactor: kevent delete fd %d: %w", int(fd), err)
		}
	}
	return false, errors.Join(errs[0], errs[1])
}

func (p *poller) reportsHandles() bool { return true }

func (p *poller) keepsArmed() bool { return true }

func (p *poller) wait(evs []event, msec int) (int, error) {
	if cap(p.evbuf) < len(evs) {
		p.evbuf = make([]unix.Kevent_t, len(evs))
	}
	raw := p.evbuf[:len(evs)]
	var timeout *unix.Timespec
	if msec >= 0 {
		p.ts = unix.NsecToTimespec(int64(msec) * 1e6)
		timeout = &p.ts
	}
	n, err := unix.Kevent(p.kq, nil, raw, timeout)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil // a signal, not an event: the loop comes round again
		}
		return 0, fmt.Errorf("reactor: kevent wait: %w", err)
	}
	j := 0
	for i := range raw[:n] {
		ev, wake, ok := p.abi.event(plainKevent(&raw[i]))
		if !ok {
			continue
		}
		if wake {
			p.waker.drain()
		}
		evs[j] = ev
		j++
	}
	return j, nil
}

// plainKevent copies k into plain integers: the conversions absorb the
// field types that differ between the systems and between 32 and 64 bits.
func plainKevent(k *unix.Kevent_t) kevent {
	return kevent{ident: uint64(k.Ident), filter: int(k.Filter), flags: uint32(k.Flags), fflags: uint32(k.Fflags)}
}

func (p *poller) wake() error { return p.waker.trigger() }

// pollable reports no descriptor, and so the loop blocks in kevent (as on a
// completion port) instead of parking in Go's netpoller. A kqueue fd is
// readable while it holds events, but the runtime registers every fd it
// polls for EVFILT_READ and EVFILT_WRITE in one kevent call, and a kqueue
// accepts only EVFILT_READ on another kqueue's fd (EINVAL otherwise, in
// FreeBSD's and DragonFly's kqueue_kqfilter): the runtime refuses the fd and
// newParker would fail. See docs/design.md, "The kqueue poller".
func (p *poller) pollable() (uintptr, bool) { return 0, false }

func (p *poller) close() error {
	err1 := p.waker.close()
	err2 := unix.Close(p.kq)
	return errors.Join(err1, err2)
}
