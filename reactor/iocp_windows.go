package reactor

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/winapi"
	"golang.org/x/sys/windows"
)

// iocpPoller is one I/O completion port per loop. A completion port reports
// finished operations, not readiness, so readiness is emulated the way libuv
// does it for every pipe: each registration keeps a zero-byte overlapped
// ReadFile posted, and its completion (data has arrived, or the peer is
// gone) is the Readable edge. Writes are the owner's overlapped WriteFile
// (write), one in flight per registration, whose completion is the
// Writable edge; a pipe write either completes or stays pending, so a fresh
// registration, and one armed for Writable with no write pending, is
// reported writable on the next wait, as epoll reports a fresh socket.
//
// Every method but wake runs on the loop goroutine, so the tables need no
// lock. The kernel holds pointers into the op records: they live in pinned
// registration records reachable from ops and regs until the completion of
// every operation they started has been dequeued (see del).
type iocpPoller struct {
	port    windows.Handle
	wakeKey uintptr

	regs map[token]*iocpReg              // live and draining registrations
	ops  map[*windows.Overlapped]*iocpOp // operations in flight, by the kernel's pointer
	// ready holds the registrations with events found outside the port (at
	// add, at arm, a zero-byte read that finished at once): the next wait
	// reports them first and does not block.
	ready []*iocpReg
	// associated holds every handle this port has taken. A handle stays on
	// its port until it is closed, so a handle registered again after del
	// cannot be associated twice; its key is then its first registration's,
	// which is harmless because completions are named by their op record.
	// Entries are never dropped (the poller does not see the close), so the
	// set is as large as the handle values ever registered, which Windows
	// reuses lowest first.
	associated map[windows.Handle]struct{}
	entries    []winapi.OverlappedEntry
}

// iocpOp is one overlapped operation of a registration. The OVERLAPPED is
// its first field, so the kernel's pointer is the op's address.
type iocpOp struct {
	o       windows.Overlapped
	reg     *iocpReg
	pending bool // started and its completion not yet dequeued

	// The write's: the owner's buffer, which the kernel reads from until the
	// completion is dequeued (referenced here, and pinned by the
	// registration's bufPin, until then), and that completion's outcome,
	// kept until written collects it.
	buf  []byte
	done bool
	n    uint32
	st   windows.NTStatus
}

// iocpReg is the poller's record of one registration. It is pinned from add
// until the completion of its last operation is dequeued (forget), and stays
// in regs until then.
type iocpReg struct {
	h   windows.Handle
	tok token
	// read is the zero-byte read whose completion is Readable; on a server's
	// pipe instance that no client has opened yet it is the
	// ConnectNamedPipe instead (see postConnect).
	read iocpOp
	// write is the owner's overlapped WriteFile (write), at most one in
	// flight; its completion is the Writable edge, and arm(Writable)
	// reports Writable at once only while none is pending.
	write iocpOp

	inflight int    // operations started and not yet dequeued
	deleted  bool   // del was called: report only released, once inflight is 0
	evs      Events // events waiting in ready
	queued   bool   // in ready
	pin      runtime.Pinner
	bufPin   runtime.Pinner // the pending write's buffer
}

func newPoller() (kernelQueue, error) {
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1)
	if err != nil {
		return nil, fmt.Errorf("reactor: CreateIoCompletionPort: %w", err)
	}
	return &iocpPoller{
		port:       port,
		wakeKey:    uintptr(wakeKey(keyBits)),
		regs:       make(map[token]*iocpReg),
		ops:        make(map[*windows.Overlapped]*iocpOp),
		associated: make(map[windows.Handle]struct{}),
	}, nil
}

// keyBits is the width of a completion key: 64, or 32 on windows/386.
const keyBits = int(unsafe.Sizeof(uintptr(0))) * 8

func (p *iocpPoller) add(h uintptr, tok token) error {
	key, ok := packKey(tok, keyBits)
	if !ok {
		return fmt.Errorf("reactor: registration slot %d does not fit in a %d-bit completion key", tok.slot, keyBits)
	}
	if _, dup := p.regs[tok]; dup {
		return fmt.Errorf("reactor: token %v registered twice", tok)
	}
	wh := windows.Handle(h)
	if _, err := windows.CreateIoCompletionPort(wh, p.port, uintptr(key), 0); err != nil {
		// ERROR_INVALID_PARAMETER: already on a port. Only ours will do.
		if _, again := p.associated[wh]; !again || !errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
			return fmt.Errorf("reactor: CreateIoCompletionPort for handle %#x: %w", h, err)
		}
	}
	p.associated[wh] = struct{}{}
	// No event object is signalled, and an operation that succeeds at once
	// posts no packet: the poller handles that case where it starts the
	// operation (postRead), so that the common "data is already there" path
	// costs no trip through the port.
	if err := windows.SetFileCompletionNotificationModes(wh,
		windows.FILE_SKIP_SET_EVENT_ON_HANDLE|windows.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS); err != nil {
		return fmt.Errorf("reactor: SetFileCompletionNotificationModes for handle %#x: %w", h, err)
	}
	r := &iocpReg{h: wh, tok: tok}
	r.read.reg, r.write.reg = r, r
	// Pinned before the kernel sees any pointer into it: the record (and the
	// OVERLAPPEDs in it) must not move while an operation is in flight.
	r.pin.Pin(r)
	if err := p.postRead(r); err != nil {
		r.pin.Unpin()
		return err
	}
	p.regs[tok] = r
	p.queue(r, Writable)
	return nil
}

// postRead starts r's zero-byte read. A read that finishes at once posts no
// packet (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), so its event is queued here.
func (p *iocpPoller) postRead(r *iocpReg) error {
	op := &r.read
	op.o = windows.Overlapped{}
	var done uint32 // non-nil: x/sys's race hooks dereference it
	err := windows.ReadFile(r.h, nil, &done, &op.o)
	switch {
	case err == nil, errors.Is(err, windows.ERROR_MORE_DATA):
		p.queue(r, Readable)
	case errors.Is(err, windows.ERROR_IO_PENDING):
		op.pending = true
		r.inflight++
		p.ops[&op.o] = op
	case errors.Is(err, windows.ERROR_BROKEN_PIPE), errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED),
		errors.Is(err, windows.ERROR_NO_DATA):
		p.queue(r, HangUp|Readable)
	case errors.Is(err, windows.ERROR_PIPE_LISTENING):
		return p.postConnect(r)
	default:
		return fmt.Errorf("reactor: zero-byte ReadFile on handle %#x: %w", uintptr(r.h), err)
	}
	return nil
}

// postConnect starts the overlapped ConnectNamedPipe of a server's pipe
// instance that waits for its client, on the read op: for such a handle,
// Readable means a client to take, as it does on a listening socket. A
// client already there (ERROR_PIPE_CONNECTED) posts no packet; one that came
// and went already (ERROR_NO_DATA) is a hang-up.
func (p *iocpPoller) postConnect(r *iocpReg) error {
	op := &r.read
	op.o = windows.Overlapped{}
	err := windows.ConnectNamedPipe(r.h, &op.o)
	switch {
	case err == nil, errors.Is(err, windows.ERROR_PIPE_CONNECTED):
		p.queue(r, Readable)
	case errors.Is(err, windows.ERROR_IO_PENDING):
		op.pending = true
		r.inflight++
		p.ops[&op.o] = op
	case errors.Is(err, windows.ERROR_NO_DATA):
		p.queue(r, HangUp|Readable)
	default:
		return fmt.Errorf("reactor: ConnectNamedPipe on handle %#x: %w", uintptr(r.h), err)
	}
	return nil
}

// write starts an overlapped WriteFile of b. One that finishes at once posts
// no packet (skip on success) and is over; a pending one keeps b, pinned and
// referenced, until its completion is dequeued.
func (p *iocpPoller) write(_ uintptr, tok token, b []byte) (int, bool, error) {
	r := p.regs[tok]
	if r == nil || r.deleted {
		return 0, false, ipcerr.ErrClosed
	}
	op := &r.write
	if op.pending || op.done {
		return 0, false, errWriteInFlight
	}
	if len(b) == 0 {
		return 0, false, nil
	}
	op.o = windows.Overlapped{}
	// Pinned before the kernel sees it.
	r.bufPin.Pin(&b[0])
	var done uint32 // non-nil: x/sys's race hooks dereference it
	err := windows.WriteFile(r.h, b, &done, &op.o)
	switch {
	case err == nil:
		r.bufPin.Unpin()
		return int(done), false, nil
	case errors.Is(err, windows.ERROR_IO_PENDING):
		op.buf, op.pending = b, true
		r.inflight++
		p.ops[&op.o] = op
		return 0, true, nil
	}
	r.bufPin.Unpin()
	return 0, false, err
}

// written hands over the outcome of the write whose completion wait
// dequeued: its byte count, and the Win32 error its NTSTATUS means.
func (p *iocpPoller) written(tok token) (int, bool, error) {
	r := p.regs[tok]
	if r == nil || r.deleted {
		return 0, false, ipcerr.ErrClosed
	}
	op := &r.write
	switch {
	case op.pending:
		return 0, true, nil
	case !op.done:
		return 0, false, nil
	}
	op.done = false
	if op.st != windows.STATUS_SUCCESS {
		return int(op.n), false, op.st.Errno()
	}
	return int(op.n), false, nil
}

func (p *iocpPoller) queue(r *iocpReg, ev Events) {
	r.evs |= ev
	if !r.queued {
		r.queued = true
		p.ready = append(p.ready, r)
	}
}

func (p *iocpPoller) arm(_ uintptr, tok token, ev Events) error {
	r := p.regs[tok]
	if r == nil || r.deleted {
		return ipcerr.ErrClosed
	}
	// A pending write's completion is the next Writable.
	if ev&Writable != 0 && !r.write.pending {
		p.queue(r, Writable)
	}
	if ev&Readable != 0 && !r.read.pending {
		return p.postRead(r)
	}
	return nil
}

func (p *iocpPoller) del(_ uintptr, tok token) (draining bool, err error) {
	r := p.regs[tok]
	if r == nil || r.deleted {
		return false, ipcerr.ErrClosed
	}
	r.deleted = true
	r.evs = 0 // events still in ready are dropped by wait
	if r.inflight == 0 {
		p.forget(r)
		return false, nil
	}
	for _, op := range []*iocpOp{&r.read, &r.write} {
		if !op.pending {
			continue
		}
		// ERROR_NOT_FOUND: it has finished and its packet is on its way.
		// Either way the record stays until the packet is dequeued.
		if e := windows.CancelIoEx(r.h, &op.o); e != nil && !errors.Is(e, windows.ERROR_NOT_FOUND) {
			err = fmt.Errorf("reactor: CancelIoEx on handle %#x: %w", uintptr(r.h), e)
		}
	}
	return true, err
}

// forget drops a registration whose operations have all been dequeued.
func (p *iocpPoller) forget(r *iocpReg) {
	delete(p.regs, r.tok)
	r.pin.Unpin()
}

func (p *iocpPoller) reportsHandles() bool { return false }

// keepsArmed is false: a zero-byte read that completed is spent, and arm
// posts the next one.
func (p *iocpPoller) keepsArmed() bool { return false }

func (p *iocpPoller) wait(evs []event, msec int) (int, error) {
	n := 0
	// Events found outside the port first, in the order they were found.
	taken := 0
	for ; taken < len(p.ready) && n < len(evs); taken++ {
		r := p.ready[taken]
		r.queued = false
		if r.deleted || r.evs == 0 {
			continue
		}
		evs[n] = event{tok: r.tok, ev: r.evs}
		r.evs = 0
		n++
	}
	rest := copy(p.ready, p.ready[taken:])
	clear(p.ready[rest:])
	p.ready = p.ready[:rest]
	if n == len(evs) {
		return n, nil
	}

	timeout := uint32(windows.INFINITE)
	if n > 0 || len(p.ready) > 0 {
		timeout = 0
	} else if msec >= 0 {
		timeout = uint32(min(msec, math.MaxInt32))
	}
	if cap(p.entries) < len(evs) {
		p.entries = make([]winapi.OverlappedEntry, len(evs))
	}
	entries := p.entries[:len(evs)-n]
	var got uint32
	if err := winapi.GetQueuedCompletionStatusEx(p.port, entries, &got, timeout, false); err != nil {
		if errors.Is(err, windows.WAIT_TIMEOUT) || n > 0 {
			return n, nil
		}
		return n, fmt.Errorf("reactor: GetQueuedCompletionStatusEx: %w", err)
	}
	for i := range entries[:got] {
		if e, ok := p.completed(&entries[i]); ok {
			evs[n] = e
			n++
		}
	}
	return n, nil
}

// completed turns one dequeued packet into the event it means, if any.
func (p *iocpPoller) completed(ent *winapi.OverlappedEntry) (event, bool) {
	if ent.Overlapped == nil {
		if ent.CompletionKey == p.wakeKey {
			return event{tok: wakeToken}, true
		}
		return event{}, false
	}
	op := p.ops[ent.Overlapped]
	if op == nil {
		return event{}, false // not one of ours
	}
	delete(p.ops, ent.Overlapped)
	p.finish(op)
	r := op.reg
	r.inflight--
	if r.deleted {
		if r.inflight > 0 {
			return event{}, false
		}
		p.forget(r)
		return event{tok: r.tok, ev: released}, true
	}
	var ev Events
	switch st := windows.NTStatus(ent.Internal); {
	case st == windows.STATUS_SUCCESS, st == windows.STATUS_BUFFER_OVERFLOW:
		// Data has arrived (BUFFER_OVERFLOW: a message longer than the zero
		// bytes asked for, on a message-mode pipe).
		ev = Readable
	case st == windows.STATUS_PIPE_BROKEN, st == windows.STATUS_PIPE_DISCONNECTED,
		st == windows.STATUS_PIPE_CLOSING, st == windows.STATUS_END_OF_FILE:
		ev = HangUp | Readable
	case st == windows.STATUS_CANCELLED:
		// Cancelled by someone else (CancelIoEx on the handle): the read
		// that finds nothing sends the owner back to arm.
		ev = Readable
	default:
		ev = Error | Readable | Writable
	}
	if op == &r.write {
		// Whatever the write's fate, the owner learns it from written.
		op.done, op.n, op.st = true, ent.NumberOfBytesTransferred, windows.NTStatus(ent.Internal)
		ev = Writable
	}
	return event{tok: r.tok, ev: ev}, true
}

// finish marks op's completion as seen: only now may the owner's write
// buffer go.
func (p *iocpPoller) finish(op *iocpOp) {
	op.pending = false
	if op.buf != nil {
		op.buf = nil
		op.reg.bufPin.Unpin()
	}
}

func (p *iocpPoller) wake() error {
	if err := windows.PostQueuedCompletionStatus(p.port, 0, p.wakeKey, nil); err != nil {
		return fmt.Errorf("reactor: PostQueuedCompletionStatus: %w", err)
	}
	return nil
}

// pollable reports no descriptor: Go's netpoller cannot wait on a completion
// port, so a loop blocks in wait, on a thread it does not lock.
func (p *iocpPoller) pollable() (uintptr, bool) { return 0, false }

// closeDrainTimeout bounds how long close waits for the completions of
// operations that are still in flight (a poller closed without del).
const closeDrainTimeout = time.Second

func (p *iocpPoller) close() error {
	// A loop closes its poller only once every registration has been
	// released. Used directly (the contract test), operations may still be
	// in flight: cancel them and wait for their packets, since the kernel
	// writes into their records when they finish.
	for _, op := range p.ops {
		windows.CancelIoEx(op.reg.h, &op.o)
	}
	entries := make([]winapi.OverlappedEntry, 16)
	for end := time.Now().Add(closeDrainTimeout); len(p.ops) > 0 && time.Now().Before(end); {
		var got uint32
		if err := winapi.GetQueuedCompletionStatusEx(p.port, entries, &got, 10, false); err != nil {
			continue
		}
		for i := range entries[:got] {
			if op := p.ops[entries[i].Overlapped]; op != nil {
				delete(p.ops, entries[i].Overlapped)
				p.finish(op)
				if op.reg.inflight--; op.reg.inflight == 0 {
					p.forget(op.reg)
				}
			}
		}
	}
	// Whatever is still in flight stays pinned and reachable for good: its
	// memory may yet be written by the kernel.
	if len(p.ops) > 0 {
		abandoned.Lock()
		for _, op := range p.ops {
			abandoned.ops = append(abandoned.ops, op)
		}
		abandoned.Unlock()
	}
	for _, r := range p.regs {
		if r.inflight == 0 {
			r.pin.Unpin()
		}
	}
	p.regs, p.ops, p.ready = nil, nil, nil
	if err := windows.CloseHandle(p.port); err != nil {
		return fmt.Errorf("reactor: close completion port: %w", err)
	}
	return nil
}

// abandoned keeps the op records of operations whose completion a closed
// poller never saw, so that they are never freed.
var abandoned struct {
	sync.Mutex
	ops []*iocpOp
}
