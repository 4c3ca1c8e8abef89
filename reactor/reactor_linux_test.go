package reactor

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var allModes = []WaitMode{WaitNetpoll, WaitLocked, WaitBusy}

// newTestReactor starts a reactor that is closed when the test ends.
func newTestReactor(t testing.TB, opts ...Option) *Reactor {
	t.Helper()
	r, err := New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// socketpair returns a connected non-blocking stream pair, closed at cleanup
// unless the test closes it first.
func socketpair(t testing.TB) (int, int) {
	t.Helper()
	a, b, err := rawSocketpair()
	require.NoError(t, err)
	return a, b
}

func rawSocketpair() (int, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	return fds[0], fds[1], err
}

func within[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	return testutil.Within(t, ch, d, what)
}

// call runs f on the loop and waits for it, at most 10 seconds.
func call(t testing.TB, l *Loop, f func()) error {
	t.Helper()
	done := make(chan struct{})
	if err := l.Post(func() { f(); close(done) }); err != nil {
		return err
	}
	within(t, done, 10*time.Second, "a task on the loop")
	return nil
}

func openFDs(t testing.TB) int { t.Helper(); return testutil.OpenFDs(t) }

func TestPostRunsEveryTaskOnceInOrderWithCoalescedWakeups(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			const posters, perPoster = 100, 10_000
			r := newTestReactor(t, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			// Loop-owned: only tasks touch these, so they need no lock.
			next := make([]int, posters)
			runs := make([]int, posters)
			outOfOrder := 0
			var wg sync.WaitGroup
			for p := 0; p < posters; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perPoster; i++ {
						if err := l.Post(func() {
							if next[p] != i {
								outOfOrder++
							}
							next[p] = i + 1
							runs[p]++
						}); err != nil {
							t.Errorf("post: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			// Every post above happened before this one, and tasks run in
			// queue order, so when it runs all of them have run.
			require.NoError(t, call(t, l, func() {}))
			var total int
			require.NoError(t, call(t, l, func() {
				for _, n := range runs {
					total += n
				}
			}))
			assert.Equal(t, posters*perPoster, total)
			assert.Zero(t, outOfOrder)
			for p := range runs {
				assert.Equal(t, perPoster, runs[p], "poster %d", p)
			}
			st := l.Stats()
			assert.EqualValues(t, posters*perPoster+2, st.Posts)
			assert.EqualValues(t, posters*perPoster+2, st.Tasks)
			assert.Less(t, st.WakeWrites*10, st.Posts, "wake-ups must be coalesced: %d writes for %d posts", st.WakeWrites, st.Posts)
			t.Logf("%d posts, %d wake-up writes, %d wake-ups, %d iterations", st.Posts, st.WakeWrites, st.Wakeups, st.Iterations)
		})
	}
}

func TestTaskBudgetLetsIOInterleave(t *testing.T) {
	const budget, tasks = 10, 100
	r := newTestReactor(t, WithLoops(1), WithTaskBudget(budget))
	l := r.Loops()[0]
	a, b := socketpair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	ran := 0
	seen := make(chan int, 1)
	require.NoError(t, call(t, l, func() {
		_, err := l.Register(uintptr(a), HandlerFunc(func(ev Events) {
			if ev&Readable != 0 {
				select {
				case seen <- ran:
				default:
				}
			}
		}))
		assert.NoError(t, err)
		// All queued before the loop next takes the queue: the loop runs
		// the first budget of them, then looks at I/O.
		for i := 0; i < tasks; i++ {
			l.Post(func() {
				ran++
				if ran == 5 {
					unix.Write(b, []byte{1})
				}
			})
		}
	}))
	assert.Equal(t, budget, within(t, seen, 5*time.Second, "readable event"))
}

func TestSocketpairEvents(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			r := newTestReactor(t, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			a, b := socketpair(t)
			defer unix.Close(a)
			evs := make(chan Events, 16)
			var reg Registration
			require.NoError(t, call(t, l, func() {
				var err error
				reg, err = l.Register(uintptr(a), HandlerFunc(func(ev Events) { evs <- ev }))
				assert.NoError(t, err)
			}))
			assert.Same(t, l, reg.Loop())
			// A fresh socket is writable and has nothing to read.
			assert.Equal(t, Writable, within(t, evs, 5*time.Second, "writable"))

			_, err := unix.Write(b, []byte("ping"))
			require.NoError(t, err)
			ev := within(t, evs, 5*time.Second, "readable")
			assert.NotZero(t, ev&Readable, "got %v", ev)
			assert.Zero(t, ev&HangUp, "got %v", ev)
			buf := make([]byte, 16)
			n, err := unix.Read(a, buf)
			require.NoError(t, err)
			assert.Equal(t, "ping", string(buf[:n]))

			require.NoError(t, unix.Close(b))
			ev = within(t, evs, 5*time.Second, "hang-up")
			assert.Equal(t, Readable|Writable|HangUp, ev&(Readable|Writable|HangUp), "got %v", ev)
			n, err = unix.Read(a, buf)
			assert.NoError(t, err)
			assert.Zero(t, n, "end of stream")

			require.NoError(t, call(t, l, func() {
				assert.NoError(t, l.Unregister(reg))
				assert.ErrorIs(t, l.Unregister(reg), ErrClosed, "second unregister")
			}))
			assert.Zero(t, l.Stats().Registered)
		})
	}
}

func TestHalfCloseReportsHangUp(t *testing.T) {
	r := newTestReactor(t, WithLoops(1))
	l := r.Loops()[0]
	a, b := socketpair(t)
	defer unix.Close(a)
	defer unix.Close(b)
	evs := make(chan Events, 16)
	require.NoError(t, call(t, l, func() {
		_, err := l.Register(uintptr(a), HandlerFunc(func(ev Events) { evs <- ev }))
		assert.NoError(t, err)
	}))
	within(t, evs, 5*time.Second, "writable")
	require.NoError(t, unix.Shutdown(b, unix.SHUT_WR))
	ev := within(t, evs, 5*time.Second, "hang-up")
	assert.Equal(t, Readable|HangUp, ev&(Readable|HangUp), "got %v", ev)
}

// TestReusedFDNeverGetsOldEvents registers two readable sockets so that their
// events come back in one batch; whichever handler runs first unregisters and
// closes the other socket and registers a fresh one, which takes the same fd
// number and the same slot. The old socket's event, still in the batch, must
// be dropped: the fresh socket has nothing to read.
func TestReusedFDNeverGetsOldEvents(t *testing.T) {
	const rounds = 3000
	r := newTestReactor(t, WithLoops(1))
	l := r.Loops()[0]
	reused := 0
	for round := 0; round < rounds; round++ {
		a1, b1 := socketpair(t)
		a2, b2 := socketpair(t)
		fds := [2]int{a1, a2}
		// Loop-owned from here on.
		var regs [2]Registration
		var fresh Registration
		freshFD, freshPeer := -1, -1
		var freshEvents []Events
		swapped := make(chan struct{})
		swap := func(other int) {
			oldFD := fds[other]
			assert.NoError(t, l.Unregister(regs[other]))
			assert.NoError(t, unix.Close(oldFD))
			c, d, err := rawSocketpair()
			if !assert.NoError(t, err) {
				return
			}
			freshFD, freshPeer = c, d
			fresh, err = l.Register(uintptr(c), HandlerFunc(func(ev Events) { freshEvents = append(freshEvents, ev) }))
			assert.NoError(t, err)
			if c == oldFD {
				reused++
			}
			close(swapped)
		}
		require.NoError(t, call(t, l, func() {
			for i := range regs {
				var err error
				regs[i], err = l.Register(uintptr(fds[i]), HandlerFunc(func(ev Events) {
					if ev&Readable != 0 && freshPeer < 0 {
						swap(1 - i)
					}
				}))
				assert.NoError(t, err)
			}
			// Both peers written from the loop itself, so both readable
			// events are collected by the same wait.
			unix.Write(b1, []byte{1})
			unix.Write(b2, []byte{2})
		}))
		within(t, swapped, 5*time.Second, "swap")
		require.NoError(t, call(t, l, func() {})) // one more iteration: the fresh fd's own events
		var got []Events
		require.NoError(t, call(t, l, func() {
			got = freshEvents
			for i, reg := range regs {
				if l.Unregister(reg) == nil { // one of them is already gone
					unix.Close(fds[i])
				}
			}
			assert.NoError(t, l.Unregister(fresh))
			unix.Close(freshFD)
			unix.Close(freshPeer)
		}))
		for _, ev := range got {
			require.Zero(t, ev&Readable, "round %d: fresh fd got an old readable event (%v)", round, got)
		}
		unix.Close(b1)
		unix.Close(b2)
	}
	st := l.Stats()
	assert.Zero(t, st.Registered)
	assert.Greater(t, reused, rounds/2, "fd numbers should be reused in most rounds")
	assert.GreaterOrEqual(t, st.Stale, uint64(rounds), "every round leaves one stale event in the batch")
	t.Logf("fd reused in %d/%d rounds, %d stale events dropped", reused, rounds, st.Stale)
}

func TestTimersFireInOrderNeverEarly(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			r := newTestReactor(t, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			const n = 300
			type firing struct {
				idx  int
				when time.Time
				at   time.Time
			}
			var fired []firing // loop-owned
			whens := make([]time.Time, n)
			stopped := map[int]bool{}
			done := make(chan struct{})
			require.NoError(t, call(t, l, func() {
				timers := make([]*Timer, n)
				for i := 0; i < n; i++ {
					d := time.Duration(rand.IntN(40)) * time.Millisecond
					if i%10 == 0 {
						d = 0 // some timers due at once, several at the same instant
					}
					timers[i] = l.AfterFunc(d, func() {
						fired = append(fired, firing{idx: i, when: whens[i], at: time.Now()})
					})
					whens[i] = timers[i].when
				}
				for i := 3; i < n; i += 17 {
					stopped[i] = true
					assert.True(t, timers[i].Stop())
					assert.False(t, timers[i].Stop(), "second stop")
				}
				l.AfterFunc(60*time.Millisecond, func() { close(done) })
			}))
			within(t, done, 10*time.Second, "last timer")
			var got []firing
			require.NoError(t, call(t, l, func() { got = fired }))
			require.Len(t, got, n-len(stopped))
			for i, f := range got {
				assert.False(t, stopped[f.idx], "stopped timer %d fired", f.idx)
				assert.False(t, f.at.Before(f.when), "timer %d fired %v early", f.idx, f.when.Sub(f.at))
				if i > 0 {
					prev := got[i-1]
					inOrder := prev.when.Before(f.when) || (prev.when.Equal(f.when) && prev.idx < f.idx)
					assert.True(t, inOrder, "timer %d fired before %d", prev.idx, f.idx)
				}
			}
			assert.Zero(t, l.Stats().Timers)
		})
	}
}

func TestTenThousandRegisteredFDs(t *testing.T) {
	const pairs = 5000 // 10,000 registered fds
	r := newTestReactor(t, WithLoops(2))
	type pair struct{ a, b int }
	ps := make([]pair, pairs)
	for i := range ps {
		ps[i].a, ps[i].b = socketpair(t)
	}
	defer func() {
		for _, p := range ps {
			unix.Close(p.a)
			unix.Close(p.b)
		}
	}()
	var mu sync.Mutex
	readable := map[int]bool{}
	allReadable := make(chan struct{})
	handler := func(fd int) Handler {
		return HandlerFunc(func(ev Events) {
			if ev&Readable == 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if readable[fd] {
				return
			}
			readable[fd] = true
			if len(readable) == pairs {
				close(allReadable)
			}
		})
	}
	for _, p := range ps {
		for _, fd := range []int{p.a, p.b} {
			l := r.Least()
			l.AddLoad(1)
			require.NoError(t, call(t, l, func() {
				_, err := l.Register(uintptr(fd), handler(fd))
				assert.NoError(t, err)
			}))
		}
	}
	total := 0
	for _, st := range r.Stats() {
		total += st.Registered
		assert.Equal(t, pairs, st.Registered, "Least spreads evenly")
		assert.Equal(t, pairs, st.Load)
	}
	assert.Equal(t, 2*pairs, total)
	for _, p := range ps {
		_, err := unix.Write(p.a, []byte{1})
		require.NoError(t, err)
	}
	within(t, allReadable, 30*time.Second, "every b readable")
	mu.Lock()
	for _, p := range ps {
		assert.True(t, readable[p.b])
		assert.False(t, readable[p.a], "nothing was written to a")
	}
	mu.Unlock()
}

func TestCloseIsPromptAndLeavesNothing(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			before := openFDs(t)
			r, err := New(WithLoops(3), WithWaitMode(mode))
			require.NoError(t, err)
			a, b := socketpair(t)
			defer unix.Close(a)
			defer unix.Close(b)
			l := r.Loops()[1]
			evs := make(chan Events, 8)
			require.NoError(t, call(t, l, func() {
				_, err := l.Register(uintptr(a), HandlerFunc(func(ev Events) { evs <- ev }))
				assert.NoError(t, err)
				l.AfterFunc(time.Hour, func() { t.Error("timer outlived Close") })
			}))
			ran := make(chan struct{})
			closed := make(chan error, 1)
			require.NoError(t, l.Post(func() { close(ran) }))
			go func() { closed <- r.Close() }()
			assert.NoError(t, within(t, closed, 5*time.Second, "Close"))
			within(t, ran, time.Second, "task posted before Close")
			// The registration learns that the reactor is gone, last.
			var last Events
			for len(evs) > 0 {
				last = <-evs
			}
			assert.Equal(t, Shutdown, last)
			assert.ErrorIs(t, l.Post(func() {}), ErrClosed)
			assert.ErrorIs(t, l.Call(func() {}), ErrClosed)
			assert.ErrorIs(t, r.Close(), ErrClosed, "second Close")
			// The socketpair is the caller's and still open: 2 fds.
			assert.Equal(t, before+2, openFDs(t))
			goleak.VerifyNone(t, goleak.IgnoreCurrent())
		})
	}
}

func TestDefaultReactorIsSharedAndCannotBeClosed(t *testing.T) {
	r1, err := Default()
	require.NoError(t, err)
	t.Cleanup(func() {
		// Stop it behind Close's back, so that goleak sees no loop left.
		for _, l := range r1.loops {
			l.stop()
			<-l.done
		}
		defaultReactor.once, defaultReactor.r, defaultReactor.err = sync.Once{}, nil, nil
	})
	r2, err := Default()
	require.NoError(t, err)
	assert.Same(t, r1, r2)
	assert.Error(t, r1.Close())
	assert.Len(t, r1.Loops(), runtime.GOMAXPROCS(0))
	require.NoError(t, call(t, r1.Loops()[0], func() {}))
}

func TestRegisterRejectsBadInput(t *testing.T) {
	r := newTestReactor(t, WithLoops(1))
	l := r.Loops()[0]
	require.NoError(t, call(t, l, func() {
		// A handle is the kernel's to judge: -1 is refused there.
		_, err := l.Register(^uintptr(0), HandlerFunc(func(Events) {}))
		assert.ErrorIs(t, err, unix.EBADF)
		_, err = l.Register(0, nil)
		assert.ErrorIs(t, err, ErrClosed)
		// An fd that is not open: the kernel refuses it, nothing leaks.
		_, err = l.Register(1<<20, HandlerFunc(func(Events) {}))
		assert.ErrorIs(t, err, unix.EBADF)
		assert.ErrorIs(t, l.Unregister(Registration{}), ErrClosed)
	}))
	assert.Zero(t, l.Stats().Registered)
}

func TestOnLoopTellsTheLoopGoroutine(t *testing.T) {
	r := newTestReactor(t, WithLoops(2))
	a, b := r.Loops()[0], r.Loops()[1]
	assert.False(t, a.OnLoop(), "the test goroutine")
	assert.False(t, OnAnyLoop(), "the test goroutine")
	var onA, onB, onAny bool
	require.NoError(t, call(t, a, func() { onA, onB, onAny = a.OnLoop(), b.OnLoop(), OnAnyLoop() }))
	assert.True(t, onA)
	assert.False(t, onB, "another loop's goroutine")
	assert.True(t, onAny)
	var callErr error
	require.NoError(t, call(t, a, func() { callErr = a.Call(func() {}) }))
	assert.ErrorIs(t, callErr, errCallOnLoop, "Call from its own loop fails instead of waiting forever")
}

func TestPostRacingCloseNeverWakesAClosedLoop(t *testing.T) {
	// A poster that queues its task just before the loop shuts down must
	// either see ErrClosed or have its task run; it must never write its
	// wake-up after the eventfd is closed (its number may be reused).
	for i := 0; i < 300; i++ {
		r, err := New(WithLoops(1))
		require.NoError(t, err)
		l := r.Loops()[0]
		var ran atomic.Int64
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for p := 0; p < 4; p++ {
			wg.Go(func() {
				for k := 0; k < 50; k++ {
					if l.Post(func() { ran.Add(1) }) == nil {
						accepted.Add(1)
					}
				}
			})
		}
		require.NoError(t, r.Close())
		wg.Wait()
		assert.Equal(t, accepted.Load(), ran.Load(), "every accepted task ran")
	}
}

func TestAttachmentIsMadeOnce(t *testing.T) {
	r := newTestReactor(t, WithLoops(1))
	l := r.Loops()[0]
	made := 0
	v1 := l.Attachment(func() any { made++; return &made })
	v2 := l.Attachment(func() any { made++; return nil })
	assert.Same(t, v1, v2)
	assert.Equal(t, 1, made)
}
