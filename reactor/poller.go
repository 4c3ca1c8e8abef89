package reactor

import "errors"

// The poller is the only kernel-specific part of a loop: epoll on Linux
// (poller_linux.go), kqueue on the BSDs and macOS and a completion port on
// Windows in later work. Each is a type behind kernelQueue, made by
// newPoller. The contract is shaped for all three at once, so that a port
// adds a file and changes nothing in loop.go:
//
//   - Handles are uintptr: an fd on Unix, a HANDLE on Windows.
//   - An event names its registration by what the kernel can carry: the
//     token (slot, generation) on epoll and IOCP, the handle itself on
//     kqueue, whose x/sys Udata is a pointer-typed field that must not hold
//     an integer. The loop resolves handles right after wait returns and
//     rejects stale events itself, so no poller does either.
//   - Unregistering may finish later: a completion port still owns the
//     OVERLAPPEDs of a handle after del, and the slot (and the memory the
//     owner tied to it) stays reserved until the poller reports released
//     for its token.
//   - arm asks for the next event of a kind once the owner has drained the
//     last one: a no-op where readiness is edge-triggered and stays armed
//     (epoll, kqueue with EV_CLEAR), the zero-byte read of a completion
//     port.
//   - A write may outlive its call: write hands the kernel a buffer and
//     reports how much it took, or that the kernel keeps the buffer until
//     the write's completion, which comes back as Writable and whose result
//     written then gives (the overlapped WriteFile of a completion port).
//     On epoll and kqueue a write is over when it returns.
//   - A loop parks in Go's netpoller only on a pollable queue descriptor;
//     a poller without one (IOCP) blocks its loop in wait.
//
// Everything else (slots, tokens, tasks, timers, statistics) is shared code
// in loop.go, written once and tested on Linux, also against the scripted
// fake poller of loop_test.go.
type kernelQueue interface {
	// add starts watching h for read, write and hang-up; its events carry
	// tok (or h, see reportsHandles).
	add(h uintptr, tok token) error
	// arm asks for the next event of the kinds in ev, after the owner has
	// seen EAGAIN (or its equivalent) for them.
	arm(h uintptr, tok token, ev Events) error
	// write starts writing p to h: n bytes went at once (fewer than len(p),
	// even 0, when the kernel had no room: a Writable event comes when it
	// has), or pending says that the kernel holds p (unmoved, untouched by
	// the owner) until a Writable event for tok, after which written
	// reports the outcome. At most one write is pending per registration;
	// write refuses another.
	write(h uintptr, tok token, p []byte) (n int, pending bool, err error)
	// written reports what tok's pending write did once its completion has
	// come back (Writable), and forgets it: the bytes the kernel took, or
	// its error; pending while it is still in flight. With no write pending
	// or finished it reports 0 and nothing.
	written(tok token) (n int, pending bool, err error)
	// del stops watching h, before its owner closes it. draining means the
	// kernel still holds work tied to the registration: the poller reports
	// an event with released for tok once it has given all of it back.
	del(h uintptr, tok token) (draining bool, err error)
	// wait collects ready events into evs; msec -1 blocks, 0 polls. Wake-ups
	// come back as events whose token is wakeToken, consumed, so that each
	// wake costs at most one extra return.
	wait(evs []event, msec int) (int, error)
	// wake makes a blocked or the next wait return. Any goroutine.
	wake() error
	// pollable returns a descriptor that Go's netpoller can wait on, readable
	// while the queue holds events, if the kernel has one.
	pollable() (fd uintptr, ok bool)
	// reportsHandles says that events name their registration by handle,
	// not by token.
	reportsHandles() bool
	// keepsArmed says that registrations stay armed (edge-triggered epoll,
	// kqueue with EV_CLEAR): arm does nothing, and the loop skips it, so
	// that its owners may skip it from any goroutine too.
	keepsArmed() bool
	// close releases what the poller opened; registered handles stay open.
	close() error
}

// writeWatcher is what a poller has if it can leave writability out of a
// registration until its owner asks for it (epoll). The loop finds it by a
// type assertion, so that pollers without it have nothing to write.
type writeWatcher interface {
	// addReader is add without writability: no Writable event until
	// watchWritable(on).
	addReader(h uintptr, tok token) error
	// watchWritable adds or removes writability from h's registration. Any
	// goroutine.
	watchWritable(h uintptr, tok token, on bool) error
}

// errWriteInFlight is a poller's refusal of a second write while one is
// pending: a registration has one write in flight at most, and its owner
// waits for Writable.
var errWriteInFlight = errors.New("reactor: a write is already in flight on this registration")

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

	// released is the poller's word that a draining registration holds
	// nothing in the kernel any more; the loop frees its slot. Handlers
	// never see it.
	released Events = 1 << 31
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
	if e&released != 0 {
		if s != "" {
			s += "|"
		}
		s += "released"
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

// event is one report as the poller hands it to the loop: tok names the
// registration, or, from a poller that reportsHandles, h does until the loop
// has resolved it.
type event struct {
	tok token
	h   uintptr
	ev  Events
}
