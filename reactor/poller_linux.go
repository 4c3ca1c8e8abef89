package reactor

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// poller is an epoll instance with an eventfd for wake-ups. Every fd is added
// edge-triggered for both directions at once, as Go's runtime poller does, so a
// registration never needs to be modified or re-armed: the owner reads or
// writes until EAGAIN and then waits for the next edge. epoll's data word
// carries the token, and a deleted fd leaves nothing behind in the kernel.
type poller struct {
	epfd  int
	evfd  int
	evbuf []unix.EpollEvent
}

func newPoller() (kernelQueue, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("reactor: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("reactor: eventfd: %w", err)
	}
	// Level-triggered on purpose: if a wait returns before reading the counter
	// (its event buffer full), the next wait still reports the wake-up.
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	putToken(&ev, wakeToken)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("reactor: epoll_ctl add eventfd: %w", err)
	}
	// Non-blocking so that Go's netpoller accepts the epoll fd when a loop
	// parks on it; epoll_wait itself ignores the flag.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("reactor: set epoll fd non-blocking: %w", err)
	}
	return &poller{epfd: epfd, evfd: evfd}, nil
}

func putToken(ev *unix.EpollEvent, t token) {
	ev.Fd = int32(t.slot)
	ev.Pad = int32(t.gen)
}

// The interest sets of a registration: both directions, or reading only
// (addReader, watchWritable).
const (
	epollBoth = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
	epollRead = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET
)

func (p *poller) add(fd uintptr, t token) error {
	return p.ctl(unix.EPOLL_CTL_ADD, "add", fd, t, epollBoth)
}

// addReader registers fd without EPOLLOUT. A registration with it has an
// event for every skb the peer consumes: with the loop idle in epoll_wait,
// each reply read by a ping-pong client wakes it once more for nothing.
func (p *poller) addReader(fd uintptr, t token) error {
	return p.ctl(unix.EPOLL_CTL_ADD, "add", fd, t, epollRead)
}

// watchWritable switches EPOLLOUT on or off. EPOLL_CTL_MOD polls the file
// again, so a socket already writable when it is switched on reports so at
// once: no edge between the owner's EAGAIN and this call is lost.
func (p *poller) watchWritable(fd uintptr, t token, on bool) error {
	if on {
		return p.ctl(unix.EPOLL_CTL_MOD, "mod", fd, t, epollBoth)
	}
	return p.ctl(unix.EPOLL_CTL_MOD, "mod", fd, t, epollRead)
}

func (p *poller) ctl(op int, name string, fd uintptr, t token, events uint32) error {
	ev := unix.EpollEvent{Events: events}
	putToken(&ev, t)
	if err := unix.EpollCtl(p.epfd, op, int(fd), &ev); err != nil {
		return fmt.Errorf("reactor: epoll_ctl %s fd %d: %w", name, int(fd), err)
	}
	return nil
}

// arm has nothing to do: an edge-triggered registration stays armed.
func (p *poller) arm(uintptr, token, Events) error { return nil }

func (p *poller) del(fd uintptr, _ token) (draining bool, err error) {
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil); err != nil {
		return false, fmt.Errorf("reactor: epoll_ctl del fd %d: %w", int(fd), err)
	}
	return false, nil
}

func (p *poller) reportsHandles() bool { return false }

func (p *poller) keepsArmed() bool { return true }

func (p *poller) wait(evs []event, msec int) (int, error) {
	if cap(p.evbuf) < len(evs) {
		p.evbuf = make([]unix.EpollEvent, len(evs))
	}
	raw := p.evbuf[:len(evs)]
	n, err := unix.EpollWait(p.epfd, raw, msec)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil // a signal, not an event: the loop comes round again
		}
		return 0, fmt.Errorf("reactor: epoll_wait: %w", err)
	}
	for i := 0; i < n; i++ {
		e := &raw[i]
		t := token{slot: uint32(e.Fd), gen: uint32(e.Pad)}
		if t == wakeToken {
			p.drainWake()
			evs[i] = event{tok: t}
			continue
		}
		evs[i] = event{tok: t, ev: epollToEvents(e.Events)}
	}
	return n, nil
}

func epollToEvents(e uint32) Events {
	var ev Events
	if e&unix.EPOLLIN != 0 {
		ev |= Readable
	}
	if e&unix.EPOLLOUT != 0 {
		ev |= Writable
	}
	// A hang-up makes reads return end of stream at once: report the fd
	// readable too, so an owner that only watches Readable still wakes.
	if e&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		ev |= HangUp | Readable
	}
	if e&unix.EPOLLERR != 0 {
		ev |= Error | Readable | Writable
	}
	return ev
}

var one = func() []byte {
	b := make([]byte, 8)
	binary.NativeEndian.PutUint64(b, 1)
	return b
}()

func (p *poller) wake() error {
	_, err := sock.IgnoringEINTR(func() (int, error) { return unix.Write(p.evfd, one) })
	if err != nil && err != unix.EAGAIN {
		return fmt.Errorf("reactor: eventfd write: %w", err)
	}
	// EAGAIN: the counter is saturated, so a wake-up is pending anyway.
	return nil
}

func (p *poller) drainWake() {
	var buf [8]byte
	sock.IgnoringEINTR(func() (int, error) { return unix.Read(p.evfd, buf[:]) })
}

func (p *poller) pollable() (uintptr, bool) { return uintptr(p.epfd), true }

func (p *poller) close() error {
	err1 := unix.Close(p.evfd)
	err2 := unix.Close(p.epfd)
	return errors.Join(err1, err2)
}
