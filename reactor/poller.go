package reactor

// The poller is the only platform-specific part of a loop. Each platform file
// (poller_linux.go: epoll + eventfd; poller_bsd.go and iocp_windows.go in later
// work) provides a type poller with these methods, and nothing else:
//
//	newPoller() (*poller, error)          create the kernel queue and its wake-up
//	(*poller).add(fd int, tok token) error         watch fd for read, write and hang-up, edge-triggered
//	(*poller).del(fd int) error           stop watching fd (before it is closed)
//	(*poller).wait(evs []event, msec int) (int, error)  collect ready events; msec -1 blocks, 0 polls
//	(*poller).wake() error                make a blocked or future wait return
//	(*poller).fd() int                    the queue's own descriptor, for parking in Go's netpoller
//	(*poller).close() error               release every descriptor the poller opened
//
// wait reports wake-ups as an event whose token is wakeToken and consumes them,
// so that each wake() costs at most one extra wait return.
// Everything else (slots, tokens, tasks, timers, statistics) is shared code in
// loop.go, written once and tested on Linux for every platform.

// Events is a set of readiness conditions reported for a registered fd.
type Events uint32

const (
	// Readable: a read will not return EAGAIN (data, end of stream or an error).
	Readable Events = 1 << iota
	// Writable: a write will make progress.
	Writable
	// HangUp: the peer closed or shut down its writing side; data sent before
	// it may still be buffered and readable.
	HangUp
	// Error: the socket has a pending error.
	Error
	// Shutdown: the reactor is closing; this is the last event the handler
	// receives and the registration is already gone.
	Shutdown
)

// String lists the set's members, for test failures and debugging.
func (e Events) String() string {
	if e == 0 {
		return "none"
	}
	names := []string{"readable", "writable", "hangup", "error", "shutdown"}
	s := ""
	for i, n := range names {
		if e&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	return s
}

// token is what the kernel stores for a registration instead of a Go pointer:
// the slot index in the loop's table and the slot's generation when the fd was
// added. An event whose generation no longer matches its slot belongs to an fd
// that was unregistered (and maybe closed and reused) and is dropped.
type token struct {
	slot uint32
	gen  uint32
}

// wakeToken marks the poller's own wake-up; no registration ever has
// generation 0.
var wakeToken = token{slot: ^uint32(0), gen: 0}

// event is one readiness report as the poller hands it to the loop.
type event struct {
	tok token
	ev  Events
}
