package reactor

import (
	"context"
	"errors"
	"math"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/cpu"
)

// Handler receives the readiness of one registered fd. OnEvents runs on the
// loop goroutine that owns the registration, one call at a time; it must not
// block, since every other fd of the loop waits for it to return.
type Handler interface {
	OnEvents(ev Events)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ev Events)

// OnEvents calls f(ev).
func (f HandlerFunc) OnEvents(ev Events) { f(ev) }

// Registration names one handle registered on a loop. It is a small value
// that carries the registration's generation, so a stale copy kept after
// Unregister can never unregister the handle's next owner.
type Registration struct {
	loop *Loop
	tok  token
}

// Loop returns the loop that owns the registration.
func (r Registration) Loop() *Loop { return r.loop }

// slot is one entry of the loop's registration table. gen changes every time
// the slot is freed, so tokens handed to the kernel earlier stop matching.
// A slot is free (owner nil, on the free list), live (owner set) or draining
// (owner nil, off the free list): unregistered, but the kernel still holds
// work of its registration, so neither the slot nor its generation may be
// reused until the poller reports it released.
type slot struct {
	gen      uint32
	draining bool
	h        uintptr
	owner    Handler
}

// Loop is one event loop: a goroutine that waits on the poller, dispatches
// readiness to the owners of the fds, runs tasks posted by other goroutines
// and fires its timers, in that order, forever until the reactor closes.
//
// Fields under "loop-owned" are touched only by the loop goroutine; other
// goroutines reach them by posting a task.
type Loop struct {
	id     int
	mode   WaitMode
	budget int
	poller kernelQueue
	parker *parker // WaitNetpoll and WaitBusy on a pollable queue only
	done   chan struct{}
	armed  bool          // the poller keepsArmed: Arm has nothing to do
	ww     writeWatcher  // the poller's, if it reports writability on demand
	gid    atomic.Uint64 // the loop goroutine's id, for OnLoop

	// lastBatch is how many events the last wait returned: WaitAdaptive
	// spins only after exactly one. Loop goroutine only.
	lastBatch int
	// watchCPU is set on Linux on a WaitBusy loop of a process that had one
	// P when the loop started: its spins time their yields (noteSharing).
	// sharedSpins counts the spins in a row whose event came during a
	// yield that ran another thread of this CPU; blockWaits is how many of
	// the next waits block instead of spinning. Loop goroutine only.
	watchCPU                bool
	sharedSpins, blockWaits int

	attachOnce sync.Once
	attachment any // the layer above's, see Attachment

	// Cross-goroutine task queue, and the counters its posters write (and
	// the load, which placements write): on cache lines of their own, so
	// that a poster on another CPU does not take the line of the loop's own
	// fields and counters away from the loop at every post. wakePending is 1 from the first post after the loop last took
	// the queue until the loop takes it again, so that a burst of posts
	// costs one wake-up write, not one per post.
	_           cpu.CacheLinePad
	mu          sync.Mutex
	queue       []func()
	closed      bool // under mu: no more tasks are accepted
	wakePending atomic.Uint32
	stopping    atomic.Bool
	posted      posterCounters
	load        atomic.Int64 // owners placed here and not gone, see AddLoad
	_           cpu.CacheLinePad

	// loop-owned
	pending  []func() // taken from queue; pending[next:] not run yet (over budget)
	next     int
	slots    []slot
	free     []uint32
	draining int                // slots waiting for the poller's released
	byHandle map[uintptr]uint32 // live handle -> slot, for pollers that reportsHandles
	timers   timerHeap
	events   []event

	stats loopCounters
}

// posterCounters are written by the goroutines that post to a loop.
type posterCounters struct {
	wakeWrites atomic.Uint64
	posts      atomic.Uint64
}

// loopCounters are written by the loop goroutine only (read by Stats).
type loopCounters struct {
	registered atomic.Int64
	wakeups    atomic.Uint64
	events     atomic.Uint64
	stale      atomic.Uint64
	tasks      atomic.Uint64
	iterations atomic.Uint64
	timersRun  atomic.Uint64
}

// LoopStats is a snapshot of one loop's counters. Counters only grow;
// Registered and Timers are current values.
type LoopStats struct {
	Loop       int    // index of the loop in its reactor
	Registered int    // handles registered now
	Load       int    // owners placed on the loop now (AddLoad)
	Timers     int    // timers armed now (approximate: read without the loop)
	Posts      uint64 // tasks posted
	Tasks      uint64 // tasks run
	WakeWrites uint64 // wake-up writes made by posters (coalesced)
	Wakeups    uint64 // wake-ups the loop received
	Events     uint64 // readiness events delivered to handlers (added after each batch)
	Stale      uint64 // events dropped because their registration was gone
	Iterations uint64 // times round the loop
	TimersRun  uint64 // timers fired
}

const maxEvents = 256

func newLoop(id int, cfg *config) (*Loop, error) {
	p, err := cfg.newPoller()
	if err != nil {
		return nil, err
	}
	l := &Loop{
		id:     id,
		mode:   cfg.waitMode,
		budget: cfg.taskBudget,
		poller: p,
		done:   make(chan struct{}),
		armed:  p.keepsArmed(),
		events: make([]event, maxEvents),
	}
	l.watchCPU = yieldsCPU && l.mode == WaitBusy && runtime.GOMAXPROCS(0) == 1
	l.ww, _ = p.(writeWatcher)
	if p.reportsHandles() {
		l.byHandle = make(map[uintptr]uint32)
	}
	// A queue that Go's netpoller cannot wait on (a completion port) has its
	// loop block in the poller's wait instead (on a locked thread only in
	// WaitLocked).
	if fd, ok := p.pollable(); ok && (l.mode == WaitNetpoll || l.mode == WaitBusy) {
		if l.parker, err = newParker(fd, l.pollNow); err != nil {
			p.close()
			return nil, err
		}
	}
	return l, nil
}

// ID returns the index of the loop in its reactor.
func (l *Loop) ID() int { return l.id }

// Post hands task to the loop, from any goroutine. Tasks run on the loop
// goroutine in the order they were posted by each poster, each exactly once,
// at most the reactor's task budget per loop iteration so that a flood of
// tasks cannot starve I/O. Post returns ErrClosed, and the task never runs,
// once the reactor is closing.
func (l *Loop) Post(task func()) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ipcerr.ErrClosed
	}
	l.queue = append(l.queue, task)
	l.posted.posts.Add(1)
	// After the append: if the loop reset wakePending before taking the
	// queue, this post either is in the queue it takes or sees the reset and
	// wakes it again, so no task waits for an unrelated wake-up.
	l.wakeLocked()
	return nil
}

// wakeLocked makes the loop come round, unless a wake-up is already on its
// way; Post and stop are its only callers. Caller holds mu, and shutdown
// sets closed under mu before it closes the poller: a wake-up is never
// written to a closed eventfd, whose number a new file (a session's socket,
// say) may own by then and would receive eight stray bytes.
func (l *Loop) wakeLocked() {
	if l.closed || !l.wakePending.CompareAndSwap(0, 1) {
		return
	}
	l.posted.wakeWrites.Add(1)
	// A failed wake-up cannot be undone: a task is queued and runs at the
	// latest when the loop shuts down. Nothing to report.
	l.poller.wake()
}

// Call runs f on the loop and waits until it has returned. Any goroutine but
// the loop's own may call it (from the loop it would wait for itself forever).
func (l *Loop) Call(f func()) error {
	if l.OnLoop() {
		return errCallOnLoop
	}
	done := make(chan struct{})
	if err := l.Post(func() { f(); close(done) }); err != nil {
		return err
	}
	<-done
	return nil
}

var errCallOnLoop = errors.New("reactor: Call from the loop's own goroutine would wait for itself")

// Register starts watching h (an fd on Unix, a HANDLE on Windows) for
// readability, writability and hang-up: owner gets an event each time a
// condition newly holds, so it must read or write until EAGAIN, then Arm,
// before it waits for the next one. Loop goroutine only (from a handler, a
// timer or a posted task).
func (l *Loop) Register(h uintptr, owner Handler) (Registration, error) {
	return l.register(h, owner, false)
}

// RegisterReader is Register for an owner that writes only now and then:
// where the poller can (WatchesWritable), the handle reports writability
// only while WatchWritable has it on, so that each time the peer reads what
// was sent the loop is not woken for a writable edge nobody needs. Elsewhere
// it is Register. Loop goroutine only.
func (l *Loop) RegisterReader(h uintptr, owner Handler) (Registration, error) {
	return l.register(h, owner, l.ww != nil)
}

// WatchesWritable reports whether writability is reported on demand
// (WatchWritable) for registrations made with RegisterReader. Any goroutine.
func (l *Loop) WatchesWritable() bool { return l.ww != nil }

// WatchWritable turns on or off the reports of writability of a registration
// made with RegisterReader, where WatchesWritable; elsewhere it does nothing.
// Turned on while the handle is writable, it reports so at once. Any
// goroutine, unlike Arm: the kernel serializes it with the loop's waits. The
// caller guarantees that h is still open and r's handle (the owner closes
// it after Unregister, and calls this under the same lock); for a
// registration already gone it returns an error and changes nothing.
func (l *Loop) WatchWritable(r Registration, h uintptr, on bool) error {
	if l.ww == nil {
		return nil
	}
	if r.loop != l {
		return ipcerr.ErrClosed
	}
	return l.ww.watchWritable(h, r.tok, on)
}

func (l *Loop) register(h uintptr, owner Handler, reader bool) (Registration, error) {
	if owner == nil || l.stopping.Load() {
		return Registration{}, ipcerr.ErrClosed
	}
	var idx uint32
	if n := len(l.free); n > 0 {
		idx = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		l.slots = append(l.slots, slot{gen: 1})
		idx = uint32(len(l.slots) - 1)
	}
	s := &l.slots[idx]
	tok := token{slot: idx, gen: s.gen}
	add := l.poller.add
	if reader {
		add = l.ww.addReader
	}
	if err := add(h, tok); err != nil {
		l.free = append(l.free, idx)
		return Registration{}, err
	}
	s.h, s.owner = h, owner
	if l.byHandle != nil {
		l.byHandle[h] = idx
	}
	l.stats.registered.Add(1)
	return Registration{loop: l, tok: tok}, nil
}

// Arm asks for the next event of the kinds in ev once the owner has drained
// the last one (read or written until EAGAIN). Edge-triggered pollers keep
// every registration armed (KeepsArmed) and Arm does nothing; a completion
// port posts its zero-byte read. Loop goroutine only.
func (l *Loop) Arm(r Registration, ev Events) error {
	if l.armed {
		return nil
	}
	s, ok := l.live(r)
	if !ok {
		return ipcerr.ErrClosed
	}
	return l.poller.arm(s.h, r.tok, ev)
}

// Write starts writing p to the registration's handle through the poller:
// n bytes went at once (fewer than len(p) when the kernel had no room for
// the rest; a Writable event comes when it has), or pending says that the kernel keeps p and writes
// it later (an overlapped WriteFile on a completion port). A pending p must
// stay unmoved and untouched until the registration's next Writable event,
// after which Written reports what the write did; until then Write refuses
// another. On epoll and kqueue it is a non-blocking write(2) and is never
// pending. Loop goroutine only.
func (l *Loop) Write(r Registration, p []byte) (n int, pending bool, err error) {
	s, ok := l.live(r)
	if !ok {
		return 0, false, ipcerr.ErrClosed
	}
	return l.poller.write(s.h, r.tok, p)
}

// Written reports, once, what the registration's last pending Write did:
// the bytes the kernel took, or the write's error; pending while it is
// still in flight. Loop goroutine only.
func (l *Loop) Written(r Registration) (n int, pending bool, err error) {
	if _, ok := l.live(r); !ok {
		return 0, false, ipcerr.ErrClosed
	}
	return l.poller.written(r.tok)
}

// Unregister stops watching the registration's handle. Events already
// collected for it are dropped, even if the handle is closed and reused by
// a new registration in the meantime. The caller closes the handle
// afterwards, never before: closing first could let the kernel keep a
// half-dead entry. Loop goroutine only. A stale or repeated Unregister
// returns ErrClosed.
func (l *Loop) Unregister(r Registration) error {
	if _, ok := l.live(r); !ok {
		return ipcerr.ErrClosed
	}
	return l.unregister(r.tok.slot)
}

// live returns the slot r names if r is still its registration.
func (l *Loop) live(r Registration) (*slot, bool) {
	if r.loop != l || int(r.tok.slot) >= len(l.slots) {
		return nil, false
	}
	s := &l.slots[r.tok.slot]
	if s.owner == nil || s.gen != r.tok.gen {
		return nil, false
	}
	return s, true
}

// unregister deletes a live slot's registration from the poller and frees
// the slot, or leaves it draining until the poller releases it.
func (l *Loop) unregister(idx uint32) error {
	s := &l.slots[idx]
	draining, err := l.poller.del(s.h, token{slot: idx, gen: s.gen})
	if l.byHandle != nil {
		delete(l.byHandle, s.h)
	}
	s.owner = nil
	l.stats.registered.Add(-1)
	if draining {
		s.draining = true
		l.draining++
		return err
	}
	l.free1(idx)
	return err
}

// free1 bumps the slot's generation, so that every token of its last
// registration stops matching, and puts it on the free list.
func (l *Loop) free1(idx uint32) {
	s := &l.slots[idx]
	s.h, s.draining = 0, false
	s.gen++
	if s.gen == 0 { // 0 belongs to the wake-up token
		s.gen = 1
	}
	l.free = append(l.free, idx)
}

// KeepsArmed reports whether the loop's registrations stay armed, so that
// Arm has nothing to do: an owner on another goroutine, which may not call
// Arm, need not post one either. Any goroutine.
func (l *Loop) KeepsArmed() bool { return l.armed }

// AddLoad counts delta more owners (sessions, for localipc) placed on the
// loop, from the moment they are handed over rather than when their
// registration lands, so that a burst of placements spreads before the loop
// has run any of them. Reactor.Least places by it. Any goroutine.
func (l *Loop) AddLoad(delta int) { l.load.Add(int64(delta)) }

// Load returns the owners placed on the loop now (AddLoad). Any goroutine.
func (l *Loop) Load() int { return int(l.load.Load()) }

// OnLoop reports whether the caller runs on the loop's own goroutine: in a
// handler, a timer or a posted task. It costs about a microsecond; any
// goroutine.
func (l *Loop) OnLoop() bool { return goid() == l.gid.Load() }

// loopGoroutines holds the goroutine id of every running loop, of every
// reactor, for OnAnyLoop.
var loopGoroutines sync.Map // uint64 -> *Loop

// OnAnyLoop reports whether the caller runs on some loop's goroutine, of
// any reactor. Layers above use it to never block a loop: a handler on one
// loop that waited for a session of another could stop both. It costs about
// a microsecond; any goroutine.
func OnAnyLoop() bool {
	_, ok := loopGoroutines.Load(goid())
	return ok
}

// Attachment returns the value the layer above keeps with the loop, made by
// newValue on first use; it lives and dies with the loop. Any goroutine.
func (l *Loop) Attachment(newValue func() any) any {
	l.attachOnce.Do(func() { l.attachment = newValue() })
	return l.attachment
}

// Stats returns a snapshot of the loop's counters; any goroutine.
func (l *Loop) Stats() LoopStats {
	return LoopStats{
		Loop:       l.id,
		Registered: int(l.stats.registered.Load()),
		Load:       l.Load(),
		Timers:     l.timers.count(),
		Posts:      l.posted.posts.Load(),
		Tasks:      l.stats.tasks.Load(),
		WakeWrites: l.posted.wakeWrites.Load(),
		Wakeups:    l.stats.wakeups.Load(),
		Events:     l.stats.events.Load(),
		Stale:      l.stats.stale.Load(),
		Iterations: l.stats.iterations.Load(),
		TimersRun:  l.stats.timersRun.Load(),
	}
}

// stop asks the loop to finish; any goroutine. Tasks posted before the loop
// notices still run.
func (l *Loop) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	// stopping before the wake-up: the loop checks it after it resets
	// wakePending, so if a wake-up is already pending (and wakeLocked writes
	// none) the loop still sees stopping once it comes round.
	l.stopping.Store(true)
	l.wakeLocked()
}

func (l *Loop) start() {
	go pprof.Do(context.Background(), pprof.Labels("localipc.loop", strconv.Itoa(l.id)), func(context.Context) {
		defer close(l.done)
		l.run()
	})
}

func (l *Loop) run() {
	id := goid()
	l.gid.Store(id)
	loopGoroutines.Store(id, l)
	defer loopGoroutines.Delete(id)
	if l.mode == WaitLocked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	for !l.stopping.Load() {
		l.stats.iterations.Add(1)
		n := l.wait()
		l.resolve(l.events[:n])
		l.dispatch(l.events[:n])
		// With no wake-up pending and nothing left over there is no task to
		// take, except perhaps from a post between its append and its CAS,
		// whose own wake-up brings the loop back: the lock can be skipped.
		if l.wakePending.Load() != 0 || l.next < len(l.pending) {
			l.runTasks(l.budget)
		}
		l.fireTimers()
	}
	l.shutdown()
}

// wait collects ready events, blocking only if there is nothing to do: no
// task left over from the last iteration and no timer due.
func (l *Loop) wait() int {
	timeout := time.Duration(-1)
	var deadline time.Time
	if l.next < len(l.pending) {
		timeout = 0
	} else if when, ok := l.timers.next(); ok {
		deadline = when
		timeout = max(time.Until(when), 0)
	}
	// Each way of waiting polls before it blocks, so none needs a poll of
	// its own first: one epoll_wait fewer per iteration.
	var n int
	switch {
	case timeout == 0:
		n, _ = l.poller.wait(l.events, 0)
	case l.mode == WaitAdaptive:
		// Only a lone event is worth a spin: after a batch, or after a wait
		// that ended empty (a timer's), the loop blocks at once.
		if l.lastBatch == 1 {
			if n = l.spin(deadline, false); n > 0 {
				break
			}
			if !deadline.IsZero() {
				timeout = max(time.Until(deadline), 0)
			}
		}
		n, _ = l.poller.wait(l.events, msec(timeout))
	case l.mode == WaitBusy && l.blockWaits > 0:
		l.blockWaits--
		n = l.block(deadline, timeout)
	case l.mode == WaitBusy:
		n = l.spin(deadline, true)
		if n > 0 {
			break
		}
		if l.parker != nil {
			n = l.parker.park(deadline)
			break
		}
		// The spin took time off the timeout: a timer is not fired late by it.
		if !deadline.IsZero() {
			timeout = max(time.Until(deadline), 0)
		}
		n, _ = l.poller.wait(l.events, msec(timeout))
	case l.mode == WaitBlock:
		n = l.block(deadline, timeout)
	case l.parker != nil:
		n = l.parker.park(deadline)
	default:
		n, _ = l.poller.wait(l.events, msec(timeout))
	}
	// A lone wake-up is a post from another goroutine, not a session whose
	// peer is about to answer: it is no reason to spin.
	l.lastBatch = n
	if n == 1 && l.events[0].tok == wakeToken {
		l.lastBatch = 0
	}
	return n
}

// block polls once and, if that finds nothing, passes once through the
// scheduler and blocks in the poller's wait until deadline (a zero one:
// until an event). The pass through the scheduler comes before the block,
// not after a poll that finds nothing again: the goroutines it runs may post
// to the loop, and their wake-up ends the block at once.
func (l *Loop) block(deadline time.Time, timeout time.Duration) int {
	if n, _ := l.poller.wait(l.events, 0); n > 0 {
		return n
	}
	runtime.Gosched()
	if !deadline.IsZero() {
		timeout = max(time.Until(deadline), 0)
	}
	n, _ := l.poller.wait(l.events, msec(timeout))
	return n
}

// spin polls without blocking up to busySpins times, or until deadline (a
// zero one never passes), yielding between polls: with toGoroutines, first
// to the goroutines of this process, which the last handlers may have woken
// and which would otherwise wait for this P, then, always, to the other
// threads of this CPU, which may be the peer that is about to answer.
func (l *Loop) spin(deadline time.Time, toGoroutines bool) int {
	n, _ := l.poller.wait(l.events, 0)
	if n > 0 {
		return n
	}
	switched := false
	for i := 0; i < busySpins && n == 0; i++ {
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0
		}
		if toGoroutines {
			runtime.Gosched()
		}
		if l.watchCPU {
			start := time.Now()
			osYield()
			switched = time.Since(start) > switchedYield
		} else {
			osYield()
		}
		n, _ = l.poller.wait(l.events, 0)
	}
	if l.watchCPU && n > 0 {
		l.noteSharing(switched)
	}
	return n
}

// noteSharing learns, from a spin that found an event after at least one
// yield, whether the peer shares the loop's CPU: then the event came during
// a yield that ran another thread. Spinning is no use to such a peer, which
// can only answer while the loop is off the CPU, and it costs: under Linux's
// scheduler (EEVDF) each sched_yield moves the loop's deadline back, and the
// peer then preempts the loop at each of its own wake-ups, one more switch
// there and back per round trip (docs/design.md). After sharedToBlock such
// spins in a row the loop blocks for its next blockedWaits waits, as
// WaitBlock does, and then spins again to look. A spin whose event came
// during a quick yield, as from a peer on another CPU, starts the count
// over.
func (l *Loop) noteSharing(switched bool) {
	if !switched {
		l.sharedSpins = 0
		return
	}
	if l.sharedSpins++; l.sharedSpins >= sharedToBlock {
		l.sharedSpins, l.blockWaits = 0, blockedWaits
	}
}

const (
	// switchedYield is how long a yield takes that ran another thread:
	// alone on its CPU a sched_yield returned in 0.3 µs here (p99 0.4 µs,
	// p99.9 2 µs), and one that lets a client read, write and read again
	// takes several.
	switchedYield = 1500 * time.Nanosecond
	// Four in a row, so that a few slow yields (the p99.9, a burst of
	// another thread) do not stop the spin of a loop whose peer is on
	// another CPU; then the spin looks again after 1,024 waits.
	sharedToBlock = 4
	blockedWaits  = 1024
)

// pollNow collects the ready events without waiting.
func (l *Loop) pollNow() int {
	n, _ := l.poller.wait(l.events, 0)
	return n
}

// busySpins is how many times WaitBusy and WaitAdaptive poll, yielding in
// between, before they park or block: enough, on the machine of
// docs/benchmarks.md, for a ping-pong client in another process to answer
// first (docs/design.md).
const busySpins = 64

// msec rounds a timeout up to whole milliseconds, so that a timer is never
// checked before it is due; -1 stays -1 (block).
func msec(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// resolve turns the events of a poller that reportsHandles into tokens,
// before any handler of the batch runs. Until then the table is exactly what
// the kernel reported for: the kernel forgets a handle when it is closed, so
// an event it returns is for the handle's current registration. Resolved
// later, an event for a handle that a handler earlier in the batch closed,
// and whose number a new registration took, would reach the new owner. A
// handle with no registration gets a token that matches no slot.
func (l *Loop) resolve(evs []event) {
	if l.byHandle == nil {
		return
	}
	for i := range evs {
		e := &evs[i]
		if e.tok == wakeToken {
			continue
		}
		e.tok = unknownToken
		if idx, ok := l.byHandle[e.h]; ok {
			e.tok = token{slot: idx, gen: l.slots[idx].gen}
		}
	}
}

// unknownToken is what resolve gives an event for a handle with no
// registration: its slot is past every table, so dispatch drops it.
var unknownToken = token{slot: ^uint32(0) - 1}

// dispatch hands each event to its registration's owner, and drops (counts
// as stale) every event whose registration is gone. The counters are added
// once per batch, not per event: the loop's work on one event has no
// locked instruction of its own.
func (l *Loop) dispatch(evs []event) {
	var delivered, stale, wakeups uint64
	for _, e := range evs {
		if e.tok == wakeToken {
			wakeups++
			continue
		}
		if int(e.tok.slot) >= len(l.slots) {
			stale++
			continue
		}
		s := &l.slots[e.tok.slot]
		// A handler earlier in this batch may have unregistered this handle
		// and registered a reused number in the same slot: the generation
		// tells the two apart. Only a draining slot, whose owner is gone
		// and which keeps its generation until then, is ever released.
		if s.gen == e.tok.gen && s.owner != nil {
			delivered++
			s.owner.OnEvents(e.ev)
			continue
		}
		if s.gen == e.tok.gen && s.draining && e.ev&released != 0 {
			l.draining--
			l.free1(e.tok.slot)
			continue
		}
		stale++
	}
	if delivered != 0 {
		l.stats.events.Add(delivered)
	}
	if stale != 0 {
		l.stats.stale.Add(stale)
	}
	if wakeups != 0 {
		l.stats.wakeups.Add(wakeups)
	}
}

// runTasks runs up to budget tasks, oldest first.
func (l *Loop) runTasks(budget int) {
	// Reset before taking the queue: a post that lands after the take then
	// sees 0 and wakes the loop again (see Post). The queue is taken every
	// time, even when tasks are left over: a wake-up consumed without a reset
	// would leave later posters believing a wake-up is still on its way.
	l.wakePending.Store(0)
	l.mu.Lock()
	if len(l.pending) == 0 {
		l.pending, l.queue = l.queue, l.pending[:0]
	} else if len(l.queue) > 0 {
		l.pending = append(l.pending, l.queue...)
		clear(l.queue)
		l.queue = l.queue[:0]
	}
	l.mu.Unlock()
	end := min(l.next+budget, len(l.pending))
	// Counted before they run, so that a poster woken by a task already
	// finds it in Stats.
	l.stats.tasks.Add(uint64(end - l.next))
	for i := l.next; i < end; i++ {
		task := l.pending[i]
		l.pending[i] = nil
		task()
	}
	l.next = end
	if l.next == len(l.pending) {
		l.pending, l.next = l.pending[:0], 0
	}
}

func (l *Loop) fireTimers() {
	if l.timers.Len() == 0 {
		return
	}
	now := time.Now()
	for {
		when, ok := l.timers.next()
		if !ok || when.After(now) {
			return
		}
		t := l.timers.pop()
		l.stats.timersRun.Add(1)
		t.f()
	}
}

// shutdown runs on the loop goroutine after stop: it refuses new tasks, runs
// every task already accepted, tells every remaining registration that the
// reactor is gone, waits until the kernel has released every draining one,
// and releases the poller.
func (l *Loop) shutdown() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	for len(l.pending) > 0 || l.queueLen() > 0 {
		l.runTasks(math.MaxInt - len(l.pending))
	}
	for i := range l.slots {
		s := &l.slots[i]
		if s.owner == nil {
			continue
		}
		owner := s.owner
		l.unregister(uint32(i))
		owner.OnEvents(Shutdown)
	}
	l.timers.clear()
	// The kernel may still write into memory that draining registrations
	// tied to their slots (a completion port's OVERLAPPEDs): the poller
	// stays open until it has handed all of it back.
	for l.draining > 0 {
		n, err := l.poller.wait(l.events, -1)
		if err != nil {
			break
		}
		l.resolve(l.events[:n])
		l.dispatch(l.events[:n])
	}
	if l.parker != nil {
		l.parker.close()
	}
	l.poller.close()
}

func (l *Loop) queueLen() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}
