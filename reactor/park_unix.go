//go:build unix

package reactor

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// parker parks a loop goroutine in Go's own netpoller until the loop's kernel
// queue has events. An epoll descriptor is itself pollable (readable while
// it holds events), so the runtime wakes the loop goroutine the way it wakes
// any net.Conn reader: no thread sits in a blocking syscall holding a P,
// which is what makes a locked-thread loop slow to hand the CPU to the
// goroutines it wakes (see docs/design.md). The runtime cannot register a
// kqueue descriptor, so kqueue loops block in kevent instead.
type parker struct {
	f        *os.File
	rc       syscall.RawConn
	deadline time.Time // the read deadline currently set on f

	// poll collects events without blocking; readFn calls it for the runtime
	// and keeps its result in n. Both are made once, so that parking, which
	// happens on every idle iteration, allocates nothing.
	poll   func() int
	n      int
	readFn func(uintptr) bool
}

func newParker(queueFD uintptr, poll func() int) (*parker, error) {
	// A duplicate, so that os.File owns (and closes) its own descriptor while
	// the poller keeps closing the original.
	dup, err := unix.FcntlInt(queueFD, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reactor: dup kernel queue fd: %w", err)
	}
	f, rc, err := sock.OpenPolled(uintptr(dup), "localipc-reactor")
	if err != nil {
		return nil, fmt.Errorf("reactor: kernel queue is not pollable by the runtime: %w", err)
	}
	p := &parker{f: f, rc: rc, poll: poll}
	p.readFn = p.pollOnce
	return p, nil
}

// pollOnce is the RawConn.Read callback: true (done) when there are events.
func (p *parker) pollOnce(uintptr) bool {
	p.n = p.poll()
	return p.n > 0
}

// park blocks the calling goroutine until poll reports events or deadline
// passes (a zero deadline never passes). It returns what the last poll
// returned.
func (p *parker) park(deadline time.Time) int {
	if !deadline.Equal(p.deadline) {
		p.f.SetReadDeadline(deadline)
		p.deadline = deadline
	}
	p.n = 0
	// RawConn.Read calls poll first and parks only when it returns false; an
	// event that arrives between that poll and the park makes the queue
	// readable and marks the runtime's descriptor ready, so it is not lost.
	if err := p.rc.Read(p.readFn); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return 0
	}
	return p.n
}

func (p *parker) close() error { return p.f.Close() }
