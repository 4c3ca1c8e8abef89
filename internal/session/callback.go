package session

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
	"github.com/localipc/localipc/reactor"
)

// Handler serves sessions from the reactor loops, without a goroutine per
// session. Every callback runs on the session's loop goroutine, one at a
// time per loop, and must not block: the loop's other sessions wait for it.
type Handler interface {
	// OnOpen runs once, before any OnData. A non-nil error refuses the
	// session: it is closed, and OnClose runs with that error.
	OnOpen(s *Session) error
	// OnData offers the bytes received and not consumed yet, oldest first,
	// and returns how many it consumed; the rest is offered again, in front
	// of the next bytes. data is valid during the call only.
	OnData(s *Session, data []byte) int
	// OnClose runs exactly once per session, after the last OnData and
	// before the descriptor is closed, so its number cannot have been reused
	// yet. The session is already closed: its calls return ErrClosed. err
	// is io.EOF when the peer ended the session, nil when Close did, else
	// what ended it. The peer's end of stream (its close, or a half-close
	// after which it may still read) ends reading at once, but the session
	// only once what Write accepted is in the kernel, as Close does: err is
	// then the error that stopped the flush (ErrBrokenPipe for a peer that
	// is gone, ErrTimeout past Linger) instead of io.EOF.
	OnClose(s *Session, err error)
}

// Limits bound what a session served by callbacks may hold in memory.
type Limits struct {
	// HighWater is the output queue size at which the loop stops reading the
	// session, so the peer feels backpressure through the kernel, and at
	// which a Write from a goroutine other than a loop waits. A Write from a
	// loop never waits: one that would take the queue past four times
	// HighWater fails with ErrTryAgain, and nothing of it is sent or queued.
	HighWater int
	// LowWater is the output queue size at or below which reading resumes
	// and writers that waited at HighWater go on.
	LowWater int
	// MaxInput is how many unconsumed input bytes OnData may leave behind;
	// a session that needs more is ended with ErrInputLimit.
	MaxInput int
	// Linger bounds how long Close, or the peer's end of stream, keeps
	// flushing queued output to a peer that does not read, before it drops
	// it and ends with ErrTimeout.
	Linger time.Duration
}

// Tracker follows the life of callback sessions, for servers that must
// find them all again (Shutdown).
type Tracker interface {
	// Attached runs in Attach, before the session can end.
	Attached(s *Session)
	// Gone runs on the loop after the session's OnClose.
	Gone(s *Session)
}

// Config is what the callback sessions of one server, or of one Dial,
// share: kept once, not per session.
type Config struct {
	Handler Handler
	Limits  Limits
	Tracker Tracker // may be nil
}

// DefaultLimits are the limits used where none are given.
var DefaultLimits = Limits{HighWater: 1 << 20, LowWater: 256 << 10, MaxInput: 4 << 20, Linger: 5 * time.Second}

// ErrInputLimit ends a session whose handler left more than Limits.MaxInput
// bytes unconsumed.
var ErrInputLimit = errors.New("localipc: unconsumed input exceeds the session's limit")

var errCallbackReads = fmt.Errorf("%w: the session is served by callbacks, which receive its data", ipcerr.ErrNotSupported)

var errCallbackRawConn = fmt.Errorf("%w: the descriptor of a session served by callbacks belongs to its loop", ipcerr.ErrNotSupported)

// loopState is what the sessions of one loop share: the loop, the buffer
// every read goes through, and their counters. The loop's load
// (reactor.Loop.AddLoad) counts its sessions.
type loopState struct {
	loop      *reactor.Loop
	buf       []byte  // loop-owned
	sys       sysLoop // loop-owned: the system's own (callback_windows.go)
	paused    atomic.Int64
	bytesIn   atomic.Uint64
	bytesOut  atomic.Uint64
	queuedMax atomic.Int64
}

// stateOf returns the loop's loopState, kept with the loop so that it goes
// when the loop goes.
func stateOf(l *reactor.Loop) *loopState {
	return l.Attachment(func() any { return &loopState{loop: l, buf: make([]byte, 64<<10)} }).(*loopState)
}

// LoopStats is one loop's counters for the sessions it serves by callbacks.
type LoopStats struct {
	reactor.LoopStats
	Sessions  int    // sessions served now
	Paused    int    // sessions whose reading is paused by backpressure now
	BytesIn   uint64 // bytes read
	BytesOut  uint64 // bytes written
	QueuedMax int    // the largest output queue any session has had
}

// Stats returns the counters of every loop of r.
func Stats(r *reactor.Reactor) []LoopStats {
	out := make([]LoopStats, 0, len(r.Loops()))
	for _, l := range r.Loops() {
		st := stateOf(l)
		out = append(out, LoopStats{
			LoopStats: l.Stats(),
			Sessions:  l.Load(),
			Paused:    int(st.paused.Load()),
			BytesIn:   st.bytesIn.Load(),
			BytesOut:  st.bytesOut.Load(),
			QueuedMax: int(st.queuedMax.Load()),
		})
	}
	return out
}

// Abort ends a session served by callbacks at once, dropping queued output,
// with err for OnClose: for shutdowns whose grace period is over. It does
// nothing to other sessions. Any goroutine.
func (s *Session) Abort(err error) {
	if s == nil || s.ev == nil {
		return
	}
	c := s.ev
	s.cancelled.Store(true)
	c.cancel()
	c.ls.loop.Post(func() { c.end(err) })
}

// bufPool holds the input and output buffers of sessions that have bytes in
// flight; idle sessions hold none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) > 4<<20 {
		return // let an outsized buffer go rather than pin it in the pool
	}
	b = b[:0]
	bufPool.Put(&b)
}

// evConn is the state of a session served by callbacks. It is kept small:
// an idle session costs this, its Session and a reactor slot, and no buffer.
// Its I/O verbs (recv, send, closeHandle, ...) are in one file per system
// (callback_unix.go); everything here is the same on every system.
type evConn struct {
	s   *Session
	ls  *loopState // and so the loop
	cfg *Config

	// loop-owned
	reg         reactor.Registration
	readTimer   *reactor.Timer
	lingerTimer *reactor.Timer
	in          []byte // unconsumed input, nil when empty
	paused      bool   // reading stopped until the output queue drains
	ended       bool   // OnClose has run
	lingering   bool   // Close, or the peer's end of stream, is flushing the queue before the end
	peerEOF     bool   // what lingers is the peer's end of stream: the end is io.EOF, not nil

	// Written under mu, which guards the handle's life for other goroutines
	// (it is closed under mu, so a writer holding mu never sends on a reused
	// number) and the output queue. closing and queuedNow are atomic besides,
	// so that the loop reads them without mu for every event of a session
	// that has nothing queued.
	closing    atomic.Bool  // Close asked for the end; the loop carries it out
	queuedNow  atomic.Int64 // queued(), stored at every change of the queue
	outWatched bool         // the loop reports writability (watchWritable)
	mu         sync.Mutex
	h          uintptr   // the descriptor; noHandle once closed
	out        *outState // nil while nothing is queued, awaited or due
}

// noHandle marks a closed session's handle: -1 as an fd, and Windows's
// INVALID_HANDLE_VALUE.
const noHandle = ^uintptr(0)

// state returns the session's outState, making it if needed. Caller holds mu.
func (c *evConn) state() *outState {
	if c.out == nil {
		c.out = &outState{}
	}
	return c.out
}

// requeued publishes the queue's size after a change. Caller holds mu.
func (c *evConn) requeued() { c.queuedNow.Store(int64(c.queued())) }

// tidy lets an outState that holds nothing go. Caller holds mu.
func (c *evConn) tidy() {
	if o := c.out; o != nil && o.buf == nil && o.changed == nil && o.writeDue == 0 {
		c.out = nil
	}
}

// Attach makes a session of a connected, non-blocking, close-on-exec socket
// served by cfg.Handler on loop l. It returns at once; OnOpen runs on the
// loop. The session owns fd from then on. An error means the loop is
// closing, or that this system has no callback face yet (CallbackFace): fd
// is closed, no callback runs and the tracker hears nothing.
// Place sessions with l's reactor's Least: Attach counts the session in the
// loop's load at once.
func Attach(fd uintptr, addrs *Addrs, l *reactor.Loop, cfg *Config) (*Session, error) {
	return attach(fd, addrs, l, cfg, false)
}

// AttachHere is Attach for a caller on l's own goroutine, an acceptor's
// handler: when it returns, the session is registered and OnOpen has run,
// or it has ended already (the loop is closing, or OnOpen failed).
// No task is posted, so a burst of accepted clients does not queue one
// task per client on the loop (at 10,000 clients that queue added a fifth
// to the server's peak memory). Loop l only.
func AttachHere(fd uintptr, addrs *Addrs, l *reactor.Loop, cfg *Config) (*Session, error) {
	return attach(fd, addrs, l, cfg, true)
}

func attach(fd uintptr, addrs *Addrs, l *reactor.Loop, cfg *Config, here bool) (*Session, error) {
	if err := CallbackFace(); err != nil {
		closeHandle(fd)
		return nil, err
	}
	s := &Session{addrs: addrs}
	s.refs.Store(1)
	c := &evConn{s: s, ls: stateOf(l), cfg: cfg, h: fd}
	s.ev = c
	l.AddLoad(1)
	if cfg.Tracker != nil {
		cfg.Tracker.Attached(s)
	}
	if here {
		c.open()
		return s, nil
	}
	if err := l.Post(c.open); err != nil {
		l.AddLoad(-1)
		closeHandle(fd)
		c.h = noHandle
		s.destroyed.Store(true)
		if cfg.Tracker != nil {
			cfg.Tracker.Gone(s)
		}
		return nil, err
	}
	return s, nil
}

// open runs on the loop: register, then OnOpen.
func (c *evConn) open() {
	reg, err := c.ls.loop.RegisterReader(c.h, c)
	if err != nil {
		c.end(err)
		return
	}
	c.mu.Lock()
	c.reg = reg // under mu, where writers find it to watch for writability
	if c.queued() > 0 {
		// A Write before the registration found the kernel full.
		c.watchWritable(true)
	}
	c.mu.Unlock()
	if err := c.cfg.Handler.OnOpen(c.s); err != nil {
		c.end(err)
	}
}

// OnEvents is the loop's entry into the session.
func (c *evConn) OnEvents(ev reactor.Events) {
	if ev&reactor.Shutdown != 0 {
		c.end(ipcerr.ErrClosed)
		return
	}
	if ev&reactor.Writable != 0 {
		c.flush()
	}
	if ev&reactor.Readable != 0 && !c.ended {
		c.readAll(ev&reactor.HangUp != 0)
	}
}

// queued is the size of the output queue. Caller holds mu.
func (c *evConn) queued() int {
	if c.out == nil {
		return 0
	}
	return len(c.out.buf) - c.out.head
}

// readAll reads until the kernel has nothing more, handing each chunk to
// OnData. Registration is edge-triggered: stopping early is safe only where a
// new edge will come, that is after a short read when no hang-up is pending
// (a hang-up has already had its edge).
func (c *evConn) readAll(hangUp bool) {
	for !c.ended {
		// Without mu: a writer racing with this check only moves the close
		// to the next read. It comes before the look at cancelled, which
		// Close sets too (Session.Close is Cancel, then the last Release):
		// a handler that replies and closes in OnData, whose peer's
		// half-close came with the request, must linger, not be taken for
		// a cancelled session whose peer hung up, which drops the reply. A
		// peer that has really hung up fails the flush at once. Once the
		// session lingers (closing is set then) nothing more is read.
		if c.closing.Load() {
			c.startClose()
			return
		}
		if c.s.cancelled.Load() {
			// No more OnData; but a peer that hangs up still ends the
			// session, or a cancelled session nobody closes would never run
			// OnClose and Shutdown would wait for it forever.
			if hangUp {
				c.end(ipcerr.ErrCancelled)
			} else {
				c.watchEnd()
			}
			return
		}
		// Without mu too: a writer racing with this check only moves the
		// pause to the next read.
		if c.queuedNow.Load() >= int64(c.cfg.Limits.HighWater) {
			if !c.paused {
				c.paused = true
				c.ls.paused.Add(1)
			}
			return
		}
		n, ok := c.recvSome(true)
		if !ok {
			return
		}
		c.ls.bytesIn.Add(uint64(n))
		c.deliver(c.ls.buf[:n])
		if n < len(c.ls.buf) && !hangUp {
			return
		}
	}
}

// recvSome makes one read into the loop's buffer. false: nothing more to
// read now (the next edge is armed), the stream has ended, or the session
// has. At the end of the stream a served session flushes its queue and then
// ends with io.EOF (lingerAfterEOF); one that is not (cancelled, watchEnd)
// ends at once with ErrCancelled.
func (c *evConn) recvSome(served bool) (int, bool) {
	n, err := c.recv(c.ls.buf)
	switch {
	case err == errWouldBlock:
		c.ls.loop.Arm(c.reg, reactor.Readable)
		return 0, false
	case err != nil:
		c.end(c.s.sysError("read", err))
		return 0, false
	case n == 0 && served:
		c.lingerAfterEOF()
		return 0, false
	case n == 0:
		c.end(ipcerr.ErrCancelled)
		return 0, false
	}
	return n, true
}

// deliver offers data, after what is left from before, to OnData and keeps
// what it did not consume.
func (c *evConn) deliver(data []byte) {
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		data = c.in
	}
	used := c.cfg.Handler.OnData(c.s, data)
	used = min(max(used, 0), len(data))
	rest := data[used:]
	switch {
	case len(rest) == 0:
		if c.in != nil {
			putBuf(c.in)
			c.in = nil
		}
	case len(rest) > c.cfg.Limits.MaxInput:
		c.end(ErrInputLimit)
	case c.in == nil:
		c.in = append(getBuf(), rest...)
	default:
		c.in = c.in[:copy(c.in, rest)]
	}
}

// flush sends queued output. It runs on the loop when the socket is
// reported writable: on kqueue with every readable edge too, on epoll only
// while the session watches for writability, or with an error.
func (c *evConn) flush() {
	// Nothing to do, and nothing to lock, in the common case. A writer that
	// makes the queue non-empty stores its size before it makes sure of the
	// event that flushes it (awaitRoom), so a writable edge skipped here is
	// never the last one its bytes would get.
	if c.queuedNow.Load() == 0 && !c.lingering && !c.paused && c.ls.loop.KeepsArmed() {
		return
	}
	c.mu.Lock()
	err := c.sendQueued()
	drained := c.queued() <= c.cfg.Limits.LowWater
	empty := c.queued() == 0
	c.mu.Unlock()
	switch {
	case err != nil:
		c.end(err)
	case c.lingering && empty:
		c.end(c.lingerEnd())
	case c.paused && drained:
		c.paused = false
		c.ls.paused.Add(-1)
		// The readable edge may have passed while paused: read now.
		c.readAll(true)
	}
}

// sendQueued writes the queue to the kernel until it is empty or the kernel
// is full, and then asks for the writable edge. Loop-only (Arm is); caller
// holds mu.
func (c *evConn) sendQueued() error {
	err := c.sendSome()
	switch {
	case err == errWouldBlock && c.ls.loop.WatchesWritable():
		c.watchWritable(true)
		return nil
	case err == errWouldBlock:
		c.ls.loop.Arm(c.reg, reactor.Writable)
		return nil
	case err == nil && c.queued() == 0:
		c.watchWritable(false)
	}
	return err
}

// sendSome writes what the kernel takes of the queue: errWouldBlock if it
// took less than all. Caller holds mu; on Unix any goroutine (awaitRoom),
// on Windows the loop only, through sendQueued, as its send requires.
func (c *evConn) sendSome() error {
	// A send in flight (outState.inFlight) is the verb's to collect.
	if c.queued() == 0 || c.h == noHandle {
		return nil
	}
	n, err := c.send(c.out.pending())
	c.ls.bytesOut.Add(uint64(n))
	c.out.consume(n)
	c.requeued()
	if n > 0 {
		c.notify()
	}
	if err == nil || err == errWouldBlock {
		return err
	}
	return c.s.sysError("write", err)
}

// notify wakes whoever waits for the queue or the session. Caller holds mu.
func (c *evConn) notify() {
	if c.out != nil && c.out.changed != nil {
		close(c.out.changed)
		c.out.changed = nil
	}
	c.tidy()
}

// wait releases mu until the queue or the session changes, or until the
// write deadline passes. Caller holds mu; holds it again on return.
func (c *evConn) wait() error {
	st := c.state()
	if st.changed == nil {
		st.changed = make(chan struct{})
	}
	ch, due := st.changed, st.writeDue
	c.mu.Unlock()
	defer c.mu.Lock()
	if due == 0 {
		<-ch
		return nil
	}
	t := time.NewTimer(time.Until(time.Unix(0, due)))
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return &net.OpError{Op: "write", Net: "unix", Source: c.s.addrs.Local, Addr: c.s.addrs.Remote, Err: os.ErrDeadlineExceeded}
	}
}

// usable reports why the session can take no more calls. Caller holds mu.
func (c *evConn) usable() error {
	switch {
	case c.s.destroyed.Load() || c.h == noHandle:
		return ipcerr.ErrClosed
	case c.s.cancelled.Load():
		return c.s.cancelError()
	case c.closing.Load():
		return ipcerr.ErrClosed
	}
	return nil
}

// write queues p behind what is queued, sending at once what the kernel
// takes. On a loop goroutine it never waits: a p that would take the queue
// past the hard cap, at whatever level the queue is, is refused whole with
// (0, ErrTryAgain), none of it sent or queued, so the caller may offer all
// of p again later; the cap is counted on the queue as if the kernel took
// nothing, so that a refusal does not depend on the kernel's room. Elsewhere
// it waits while the queue is at the high watermark, and meets no cap.
func (c *evConn) write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return 0, err
	}
	lim := &c.cfg.Limits
	overCap := c.queued()+len(p) > hardCap(lim)
	if overCap || c.queued() >= lim.HighWater {
		// Only now is it worth a microsecond to ask who is calling.
		if reactor.OnAnyLoop() {
			// A loop never waits: the session's own reading pauses instead.
			// A handler that writes to sessions it is not reading from
			// (another session, a timer), or more in one go than the
			// pause can bound, meets a hard cap.
			if overCap {
				return 0, ipcerr.ErrTryAgain
			}
		} else if c.queued() >= lim.HighWater {
			for c.queued() > lim.LowWater {
				if err := c.wait(); err != nil {
					return 0, err
				}
				if err := c.usable(); err != nil {
					return 0, err
				}
			}
		}
	}
	n := 0
	if c.queued() == 0 {
		var err error
		n, err = c.send(p)
		c.ls.bytesOut.Add(uint64(n))
		switch err {
		case nil:
		case errWouldBlock:
			c.armWritable()
		default:
			return n, c.s.sysError("write", err)
		}
	}
	if n < len(p) {
		// The kernel had no room, now or when the queue began: a writable
		// edge will come and the loop will flush.
		wasEmpty := c.queued() == 0
		c.state().push(p[n:])
		c.requeued()
		if q := int64(c.queued()); q > c.ls.queuedMax.Load() {
			c.ls.queuedMax.Store(q) // a high-water mark: a lost race only understates it by one write
		}
		if wasEmpty {
			c.awaitRoom()
		}
	}
	return len(p), nil
}

// awaitRoom makes sure that a queue just started gets the writable event
// that flushes it, after its size is stored (flush reads it without mu).
// Caller holds mu; any goroutine.
func (c *evConn) awaitRoom() {
	l := c.ls.loop
	switch {
	case l.WatchesWritable():
		// The event can only come after this: the queue is seen.
		c.watchWritable(true)
	case l.KeepsArmed():
		// The edge may have come between the send that found no room
		// and the size stored just now, and the loop, seeing an empty
		// queue, skipped it (flush). Sending again settles it: either
		// there is room now, or this send fails and the edge that frees
		// room comes after it, when the loop sees the queue. An error
		// other than errWouldBlock is the session's end, which the loop
		// finds at its next event, as for any queued bytes.
		c.sendSome()
	}
	// Elsewhere write has asked for the event (armWritable).
}

// watchWritable switches the reports of writability on or off, where the
// loop reports them on demand (reactor.Loop.WatchWritable): on while bytes
// are queued, off once they are in the kernel, so that an idle session's
// loop is not woken each time its peer reads. Before open has registered
// the handle there is nothing to switch; open does it. Caller holds mu;
// any goroutine.
func (c *evConn) watchWritable(on bool) {
	if c.outWatched == on || c.reg.Loop() == nil || c.h == noHandle {
		return
	}
	if c.ls.loop.WatchWritable(c.reg, c.h, on) == nil {
		c.outWatched = on
	}
}

// armWritable asks for the writable edge that will flush the queue. Where
// registrations stay armed (epoll, kqueue) there is nothing to ask, and
// nothing to pay. Elsewhere Arm is loop-only (it reads the loop's slot
// table, which Register grows, and c.reg, which open sets there), so a
// writer on another goroutine posts it; the task runs after open, which was
// posted first. If the loop is closing, its Shutdown event ends the session
// anyway.
func (c *evConn) armWritable() {
	l := c.ls.loop
	if l.KeepsArmed() {
		return
	}
	if l.OnLoop() {
		l.Arm(c.reg, reactor.Writable)
		return
	}
	l.Post(func() { l.Arm(c.reg, reactor.Writable) })
}

// flushWait waits until the queue is empty: the bytes are in the kernel. On
// a loop goroutine it cannot wait and reports ErrTryAgain while bytes remain.
// Unlike IPRT's Flush, which never waits, it can block, so Cancel wakes it.
func (c *evConn) flushWait() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.queued() > 0 {
		switch {
		case c.h == noHandle:
			return ipcerr.ErrClosed
		case c.s.cancelled.Load():
			return c.s.cancelError()
		case reactor.OnAnyLoop():
			return ipcerr.ErrTryAgain
		}
		if err := c.wait(); err != nil {
			return err
		}
	}
	return nil
}

// hardCap bounds the queue of a session written to from a loop: such writes
// never wait, and pausing the session's reading bounds only how often its
// own handler writes, not how much one Write queues.
func hardCap(lim *Limits) int { return 4 * lim.HighWater }

// close asks the loop to end the session after flushing what is queued.
// Any goroutine.
func (c *evConn) close() {
	c.mu.Lock()
	c.closing.Store(true)
	c.notify()
	c.mu.Unlock()
	// Refused only when the reactor is closing, which ends every session.
	c.ls.loop.Post(c.startClose)
}

// startClose stops reading and ends the session once the queue is flushed,
// or after Linger. Loop-only.
func (c *evConn) startClose() { c.linger(false) }

// lingerAfterEOF is startClose for the peer's end of stream: a peer that
// has only half-closed (CloseWrite) still reads, and the bytes Write
// accepted are owed to it. From here on Write refuses more (ErrClosed, as
// after the end), as it does after Close: a byte accepted after the flush
// that empties the queue and before end runs would be dropped by end, yet
// acknowledged. Loop-only.
func (c *evConn) lingerAfterEOF() {
	c.mu.Lock()
	c.closing.Store(true)
	c.notify() // a writer waiting at the high watermark learns it now
	c.mu.Unlock()
	c.linger(true)
}

// linger stops reading for good and ends the session once the queue is in
// the kernel (with lingerEnd), when a send fails (with its error: a peer
// that has hung up ends it at once), or after Linger (ErrTimeout, the queue
// dropped). A read deadline no longer applies: nothing is read any more,
// and Linger bounds what is left. Loop-only; closing is already set.
func (c *evConn) linger(peerEOF bool) {
	if c.ended || c.lingering {
		return
	}
	c.lingering, c.peerEOF = true, peerEOF
	c.readTimer.Stop()
	c.readTimer = nil
	c.mu.Lock()
	err := c.sendQueued()
	empty := c.queued() == 0
	c.mu.Unlock()
	switch {
	case err != nil:
		c.end(err)
	case empty:
		c.end(c.lingerEnd())
	default:
		c.lingerTimer = c.ls.loop.AfterFunc(c.cfg.Limits.Linger, func() { c.end(ipcerr.ErrTimeout) })
	}
}

// lingerEnd is OnClose's error for a session whose queue has been flushed
// after Close (nil) or after the peer's end of stream (io.EOF).
func (c *evConn) lingerEnd() error {
	if c.peerEOF {
		return io.EOF
	}
	return nil
}

// setReadDeadline arms (or disarms, for a zero t) the end of the session at
// t: reading past a read deadline fails, as for the blocking face, and a
// session served by callbacks reads all the time.
func (c *evConn) setReadDeadline(t time.Time) error {
	return c.ls.loop.Post(func() {
		if c.readTimer != nil {
			c.readTimer.Stop()
			c.readTimer = nil
		}
		if t.IsZero() || c.ended || c.lingering { // nothing is read while lingering
			return
		}
		c.readTimer = c.ls.loop.AfterFunc(time.Until(t), func() {
			c.end(&net.OpError{Op: "read", Net: "unix", Source: c.s.addrs.Local, Addr: c.s.addrs.Remote, Err: os.ErrDeadlineExceeded})
		})
	})
}

// end runs OnClose once and closes the descriptor after it. Loop-only.
//
// The session is marked destroyed, uncounted, and its queue dropped and its
// waiters woken before OnClose runs: whoever OnClose wakes (a goroutine
// waiting for it, say) must already find every call answering ErrClosed and
// the loop's counters settled. The descriptor is closed only after OnClose,
// so its number cannot be reused while the handler still thinks of it.
func (c *evConn) end(err error) {
	if c.ended {
		return
	}
	c.ended = true
	c.readTimer.Stop() // Stop of a nil Timer is a no-op
	c.lingerTimer.Stop()
	if c.reg.Loop() != nil {
		c.ls.loop.Unregister(c.reg)
	}
	if c.paused {
		c.ls.paused.Add(-1)
	}
	c.ls.loop.AddLoad(-1)
	c.s.destroyed.Store(true)
	c.mu.Lock()
	h := c.h
	c.h = noHandle
	if c.out != nil {
		c.out.drop()
	}
	c.requeued()
	c.notify()
	c.mu.Unlock()
	if c.in != nil {
		putBuf(c.in)
		c.in = nil
	}
	c.cfg.Handler.OnClose(c.s, err)
	closeHandle(h)
	if c.cfg.Tracker != nil {
		c.cfg.Tracker.Gone(c.s)
	}
}

// peerCred reads the peer's credentials while the descriptor is alive.
func (c *evConn) peerCred() (sock.Cred, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h == noHandle {
		return sock.Cred{}, ipcerr.ErrClosed
	}
	return c.peerCredOf(c.h)
}

// cancel wakes writers and flushers waiting on a cancelled session.
func (c *evConn) cancel() {
	c.mu.Lock()
	c.notify()
	c.mu.Unlock()
}

// setDeadline: a write deadline bounds writers that wait for the queue; a
// read deadline ends the session when it passes (see setReadDeadline).
func (c *evConn) setDeadline(t time.Time, read, write bool) error {
	if write {
		c.mu.Lock()
		st := c.state()
		st.writeDue = 0
		if !t.IsZero() {
			st.writeDue = t.UnixNano()
		}
		c.notify() // waiting writers pick up the new deadline
		c.mu.Unlock()
	}
	if read {
		return c.setReadDeadline(t)
	}
	return nil
}

// shutdownWrite half-closes the session once the queue is in the kernel.
func (c *evConn) shutdownWrite() error {
	if err := c.flushWait(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h == noHandle {
		return ipcerr.ErrClosed
	}
	return c.s.sysError("close write", c.shutdownWriteOf(c.h))
}
