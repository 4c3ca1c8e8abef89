package reactor

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePoller is a kernel queue whose events the test scripts, so that the
// loop's shared logic (stale events, handle resolution, draining slots, the
// wake-up path) runs the same way for every kind of kernel, here on Linux.
type fakePoller struct {
	t         testing.TB
	handles   bool          // events name handles, as kqueue's do
	wakeDelay time.Duration // how long a wake-up takes to reach the "kernel"
	pollDelay time.Duration // how long a poll (a zero timeout) that finds nothing takes

	mu          sync.Mutex
	draining    bool // del leaves the slot draining, as a completion port does
	batches     [][]event
	wakeups     int
	closed      bool
	calls       []string
	waits       []int // the timeout of every wait, when recordWaits
	recordWaits bool
	blocking    chan struct{} // a wait without a timeout found nothing to return
	notify      chan struct{} // a batch or a wake-up arrived
	released    chan struct{} // closed by close()
}

func newFakePoller(t testing.TB) *fakePoller {
	return &fakePoller{t: t, notify: make(chan struct{}, 1), blocking: make(chan struct{}, 1), released: make(chan struct{})}
}

// adaptiveLoopOn starts a one-loop WaitAdaptive reactor over p, which
// records the timeout of every wait.
func adaptiveLoopOn(t *testing.T, p *fakePoller) *Loop {
	t.Helper()
	p.recordWaits = true
	r, err := New(WithLoops(1), WithWaitMode(WaitAdaptive), func(c *config) {
		c.newPoller = func() (kernelQueue, error) { return p, nil }
	})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r.Loops()[0]
}

// reactorOn starts a one-loop reactor over p.
func reactorOn(t *testing.T, p *fakePoller) (*Reactor, *Loop) {
	t.Helper()
	r, err := New(WithLoops(1), func(c *config) {
		c.newPoller = func() (kernelQueue, error) { return p, nil }
	})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r, r.Loops()[0]
}

// takeWaits returns the timeouts of the waits since the last call, once the
// loop is blocked in a wait without one.
func (p *fakePoller) takeWaits(t *testing.T) []int {
	t.Helper()
	select {
	case <-p.blocking:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not block")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.waits
	p.waits = nil
	return w
}

// script makes the loop's next wait return evs.
func (p *fakePoller) script(evs ...event) {
	p.mu.Lock()
	p.batches = append(p.batches, evs)
	p.mu.Unlock()
	p.kick()
}

func (p *fakePoller) kick() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *fakePoller) record(call string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call)
}

func (p *fakePoller) recorded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *fakePoller) add(h uintptr, tok token) error { p.record("add"); return nil }

func (p *fakePoller) arm(h uintptr, tok token, ev Events) error {
	p.record("arm " + ev.String())
	return nil
}

// write takes everything, as a kernel with room does; written has nothing
// to report. Both are recorded with what they were handed.
func (p *fakePoller) write(h uintptr, tok token, b []byte) (int, bool, error) {
	p.record("write " + string(b))
	return len(b), false, nil
}

func (p *fakePoller) written(tok token) (int, bool, error) {
	p.record("written")
	return 0, false, nil
}

func (p *fakePoller) del(h uintptr, tok token) (bool, error) {
	p.record("del")
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.draining, nil
}

func (p *fakePoller) setDraining(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draining = on
}

func (p *fakePoller) wait(evs []event, msec int) (int, error) {
	p.mu.Lock()
	if p.recordWaits {
		p.waits = append(p.waits, msec)
	}
	p.mu.Unlock()
	told := false
	var deadline <-chan time.Time
	if msec > 0 {
		deadline = time.After(time.Duration(msec) * time.Millisecond)
	}
	for {
		p.mu.Lock()
		if len(p.batches) > 0 {
			n := copy(evs, p.batches[0])
			p.batches = p.batches[1:]
			p.mu.Unlock()
			return n, nil
		}
		if p.wakeups > 0 {
			p.wakeups = 0
			p.mu.Unlock()
			evs[0] = event{tok: wakeToken}
			return 1, nil
		}
		delay := p.pollDelay
		p.mu.Unlock()
		if msec == 0 {
			time.Sleep(delay)
			return 0, nil
		}
		if msec < 0 && !told {
			told = true // once a wait: a stale kick must not tell again
			select {
			case p.blocking <- struct{}{}:
			default:
			}
		}
		select {
		case <-p.notify:
		case <-deadline:
			return 0, nil
		}
	}
}

func (p *fakePoller) wake() error {
	p.mu.Lock()
	delay := p.wakeDelay
	p.mu.Unlock()
	time.Sleep(delay)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		// On a real kernel this write would land on a closed, perhaps
		// reused, descriptor.
		p.t.Error("wake-up written after the poller was closed")
		return nil
	}
	p.wakeups++
	p.mu.Unlock()
	p.kick()
	return nil
}

func (p *fakePoller) pollable() (uintptr, bool) { return 0, false }
func (p *fakePoller) reportsHandles() bool      { return p.handles }
func (p *fakePoller) keepsArmed() bool          { return false }

func (p *fakePoller) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.released)
	}
	return nil
}

// owner records the events its registration receives.
type owner struct {
	mu  sync.Mutex
	got []Events
	on  func(Events) // runs on the loop after recording
}

func (o *owner) OnEvents(ev Events) {
	o.mu.Lock()
	o.got = append(o.got, ev)
	on := o.on
	o.mu.Unlock()
	if on != nil {
		on(ev)
	}
}

func (o *owner) events() []Events {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Events(nil), o.got...)
}

// register registers h for o on l and returns the registration.
func register(t *testing.T, l *Loop, h uintptr, o Handler) Registration {
	t.Helper()
	var reg Registration
	var err error
	require.NoError(t, l.Call(func() { reg, err = l.Register(h, o) }))
	require.NoError(t, err)
	return reg
}

// settle waits until the loop has dispatched everything scripted so far: a
// task posted now runs after the loop's next wait returns.
func settle(t *testing.T, l *Loop) {
	t.Helper()
	done := testutil.Async(func() error { return l.Call(func() {}) })
	require.NoError(t, testutil.Within(t, done, 5*time.Second, "the loop to come round"))
}

// A handler that unregisters its handle and registers a new owner in the
// same slot must not pass the new owner the old registration's events that
// were collected in the same batch, whether events carry tokens (epoll,
// IOCP) or handles (kqueue), where the number may be the same one too.
func TestEventsOfAReplacedRegistrationAreStale(t *testing.T) {
	for _, handles := range []bool{false, true} {
		name := map[bool]string{false: "tokens", true: "handles"}[handles]
		t.Run(name, func(t *testing.T) {
			p := newFakePoller(t)
			p.handles = handles
			_, l := reactorOn(t, p)
			const h = 7
			first, second := &owner{}, &owner{}
			reg := register(t, l, h, first)
			var replaced Registration
			first.on = func(Events) {
				require.NoError(t, l.Unregister(reg))
				var err error
				replaced, err = l.Register(h, second)
				require.NoError(t, err)
			}
			old := event{tok: reg.tok, h: h, ev: Readable}
			p.script(old, old, old)
			settle(t, l)
			assert.Equal(t, []Events{Readable}, first.events())
			assert.Empty(t, second.events(), "the new owner got the old owner's events")
			assert.Equal(t, uint64(2), l.Stats().Stale)
			assert.Equal(t, reg.tok.slot, replaced.tok.slot, "the slot was reused")
			assert.NotEqual(t, reg.tok.gen, replaced.tok.gen)

			// The next batch is the new registration's.
			p.script(event{tok: replaced.tok, h: h, ev: Writable})
			settle(t, l)
			assert.Equal(t, []Events{Writable}, second.events())
		})
	}
}

func TestEventsForUnknownRegistrationsAreStale(t *testing.T) {
	cases := []struct {
		name    string
		handles bool
		ev      event
	}{
		{"token past the table", false, event{tok: token{slot: 99, gen: 1}, ev: Readable}},
		{"token of a free slot", false, event{tok: token{slot: 0, gen: 1}, ev: Readable}},
		{"handle never registered", true, event{h: 42, ev: Readable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newFakePoller(t)
			p.handles = tc.handles
			_, l := reactorOn(t, p)
			o := &owner{}
			reg := register(t, l, 3, o)
			require.NoError(t, l.Call(func() { require.NoError(t, l.Unregister(reg)) }))
			p.script(tc.ev)
			settle(t, l)
			assert.Empty(t, o.events())
			assert.Equal(t, uint64(1), l.Stats().Stale)
		})
	}
}

// A registration that the kernel still holds work of (a completion port's
// pending OVERLAPPEDs) keeps its slot and generation until the poller
// releases it: no new registration may take the slot meanwhile, and events
// that still come for it are dropped.
func TestDrainingSlotIsReusedOnlyAfterRelease(t *testing.T) {
	p := newFakePoller(t)
	p.setDraining(true)
	_, l := reactorOn(t, p)
	o := &owner{}
	reg := register(t, l, 5, o)
	require.NoError(t, l.Call(func() { require.NoError(t, l.Unregister(reg)) }))
	assert.Equal(t, 0, l.Stats().Registered)

	other := register(t, l, 6, &owner{})
	assert.NotEqual(t, reg.tok.slot, other.tok.slot, "a draining slot was handed out")

	p.script(event{tok: reg.tok, ev: Readable}) // a completion after del
	settle(t, l)
	assert.Empty(t, o.events())
	assert.Equal(t, uint64(1), l.Stats().Stale)

	p.script(event{tok: reg.tok, ev: released})
	settle(t, l)
	again := register(t, l, 5, &owner{})
	assert.Equal(t, reg.tok.slot, again.tok.slot, "the released slot is free again")
	assert.NotEqual(t, reg.tok.gen, again.tok.gen, "with a new generation")
	assert.Empty(t, o.events(), "handlers never see released")
	p.setDraining(false) // so that the reactor's Close frees the rest at once
}

// Close must keep the poller open until every draining registration is
// released: the kernel may still write into memory tied to it.
func TestShutdownWaitsForDrainingRegistrations(t *testing.T) {
	p := newFakePoller(t)
	p.setDraining(true)
	r, l := reactorOn(t, p)
	o := &owner{}
	reg := register(t, l, 5, o)

	closed := testutil.Async(r.Close)
	// Shutdown unregisters the live slot (leaving it draining) and tells its
	// owner; only the release lets it close the poller.
	require.Eventually(t, func() bool { return len(o.events()) == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []Events{Shutdown}, o.events())
	select {
	case <-p.released:
		t.Fatal("the poller was closed while a registration was draining")
	case <-closed:
		t.Fatal("Close returned while a registration was draining")
	default:
	}
	p.script(event{tok: reg.tok, ev: released})
	require.NoError(t, testutil.Within(t, closed, 5*time.Second, "Close after the release"))
	testutil.Within(t, p.released, time.Second, "the poller to close")
	assert.Equal(t, []string{"add", "del"}, p.recorded())
}

func TestArmGoesToThePoller(t *testing.T) {
	p := newFakePoller(t)
	_, l := reactorOn(t, p)
	reg := register(t, l, 9, &owner{})
	require.NoError(t, l.Call(func() {
		assert.NoError(t, l.Arm(reg, Readable))
		assert.NoError(t, l.Arm(reg, Writable))
		require.NoError(t, l.Unregister(reg))
		assert.ErrorIs(t, l.Arm(reg, Readable), ErrClosed, "a stale registration")
		assert.ErrorIs(t, l.Arm(Registration{}, Readable), ErrClosed)
	}))
	assert.Equal(t, []string{"add", "arm readable", "arm writable", "del"}, p.recorded())
}

// Write and Written reach the poller for a live registration only: a stale
// one could write to a handle that a new owner has taken.
func TestWriteGoesToThePollerOnlyWhileRegistered(t *testing.T) {
	p := newFakePoller(t)
	_, l := reactorOn(t, p)
	reg := register(t, l, 9, &owner{})
	require.NoError(t, l.Call(func() {
		n, pending, err := l.Write(reg, []byte("abc"))
		assert.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.False(t, pending)
		n, pending, err = l.Written(reg)
		assert.NoError(t, err)
		assert.Zero(t, n)
		assert.False(t, pending)
		require.NoError(t, l.Unregister(reg))
		_, _, err = l.Write(reg, []byte("x"))
		assert.ErrorIs(t, err, ErrClosed, "a stale registration")
		_, _, err = l.Written(reg)
		assert.ErrorIs(t, err, ErrClosed)
		_, _, err = l.Write(Registration{}, []byte("x"))
		assert.ErrorIs(t, err, ErrClosed)
	}))
	assert.Equal(t, []string{"add", "write abc", "written", "del"}, p.recorded())
}

// Post and stop wake the loop through one path, under the queue lock, which
// shutdown takes before it closes the poller: no wake-up may reach a closed
// poller (the fake fails the test if one does). Here the loop is busy in a
// task when Close comes, and the wake-up of stop is slow: the loop finishes
// the task, sees stopping and shuts down while that wake-up is on its way.
func TestNoWakeUpAfterThePollerIsClosed(t *testing.T) {
	for range 20 {
		p := newFakePoller(t)
		r, l := reactorOn(t, p)
		busy := make(chan struct{})
		require.NoError(t, l.Post(func() {
			close(busy)
			for !l.stopping.Load() {
				runtime.Gosched()
			}
		}))
		<-busy
		p.mu.Lock()
		p.wakeDelay = time.Millisecond
		p.mu.Unlock()
		require.NoError(t, r.Close())
	}
}

// An adaptive loop spins only after a wait that returned one event: a
// session whose peer is about to answer. After a batch, and when it starts,
// it blocks at once, so that the events of many sessions gather.
func TestAdaptiveLoopSpinsOnlyAfterALoneEvent(t *testing.T) {
	p := newFakePoller(t)
	l := adaptiveLoopOn(t, p)
	assert.Equal(t, []int{-1}, p.takeWaits(t), "a loop that starts blocks at once")

	o := &owner{}
	reg := register(t, l, 7, o)
	assert.Equal(t, []int{-1}, p.takeWaits(t), "a lone wake-up (register's task) is no reason to spin")

	spin := make([]int, busySpins+1) // every poll of the spin, then the block
	ev := event{tok: reg.tok, h: 7, ev: Readable}
	cases := []struct {
		name  string
		batch []event
		want  []int
	}{
		{"one event", []event{ev}, append(spin, -1)},
		{"a batch", []event{ev, ev}, []int{-1}},
		{"one event again", []event{ev}, append(spin, -1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.script(tc.batch...)
			assert.Equal(t, tc.want, p.takeWaits(t))
		})
	}
	assert.Len(t, o.events(), 4)
}

// A timer that falls due while the loop spins ends the spin: the loop fires
// it after one more poll instead of polling on to the end of the spin, and
// then, with nothing to wait for, blocks. Each poll of the spin is made to
// take 2 ms, so the 64 of a whole spin would outlast the 20 ms timer six
// times over however slow the machine; only a stall of the loop for the
// whole 20 ms before its first poll leaves nothing to check.
func TestAdaptiveSpinEndsWhenATimerFallsDue(t *testing.T) {
	const (
		timer = 20 * time.Millisecond
		poll  = 2 * time.Millisecond
	)
	p := newFakePoller(t)
	l := adaptiveLoopOn(t, p)
	p.takeWaits(t)
	type firing struct {
		after       time.Duration // since the timer was armed
		pollsBefore int           // waits of the spin made before it fired
	}
	fired := make(chan firing, 1)
	o := &owner{on: func(Events) {
		armed := time.Now()
		l.AfterFunc(timer, func() {
			p.mu.Lock()
			n := len(p.waits)
			p.mu.Unlock()
			fired <- firing{time.Since(armed), n}
		})
	}}
	reg := register(t, l, 7, o)
	p.takeWaits(t)

	p.mu.Lock()
	p.pollDelay = poll
	p.mu.Unlock()
	p.script(event{tok: reg.tok, h: 7, ev: Readable})
	waits := p.takeWaits(t)
	var f firing
	select {
	case f = <-fired:
	default:
		t.Fatal("the loop blocked with the timer unfired")
	}
	assert.GreaterOrEqual(t, f.after, timer, "fired early")
	if f.pollsBefore == 0 {
		t.Skipf("the loop stalled for %v before its first poll: the timer was due before the spin began", f.after)
	}
	require.NotEmpty(t, waits)
	polls := waits[:len(waits)-1]
	assert.Equal(t, -1, waits[len(waits)-1], "after the timer the loop blocks")
	assert.Less(t, len(polls), busySpins, "the spin ran on past the timer: %v", waits)
	for _, w := range polls {
		assert.Zero(t, w, "a poll of the spin or the one that fires the timer: %v", waits)
	}
}

// A WaitBusy loop that watches its CPU blocks for blockedWaits waits after
// sharedToBlock spins in a row whose event came during a slow yield, and a
// spin answered during a quick yield starts the count over.
func TestNoteSharing(t *testing.T) {
	slow := func(n int) []bool { return slices.Repeat([]bool{true}, n) }
	for _, tc := range []struct {
		name     string
		switched []bool
		blocks   int
	}{
		{"none", nil, 0},
		{"one short of the count", slow(sharedToBlock - 1), 0},
		{"the count", slow(sharedToBlock), blockedWaits},
		{"broken by a quick one", slices.Concat(slow(sharedToBlock-1), []bool{false}, slow(sharedToBlock-1)), 0},
		{"quick ones only", []bool{false, false, false, false, false}, 0},
		{"quick, then the count", slices.Concat([]bool{false}, slow(sharedToBlock)), blockedWaits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loop{mode: WaitBusy, watchCPU: true}
			for _, sw := range tc.switched {
				l.noteSharing(sw)
			}
			assert.Equal(t, tc.blocks, l.blockWaits)
		})
	}
}
