package reactor

import (
	"fmt"
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
)

// The reactor's behaviour that needs no descriptor of the system's own:
// posting, timers, the default reactor, OnLoop, attachments. It runs on every
// platform that has a poller.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var allModes = []WaitMode{WaitNetpoll, WaitLocked, WaitBusy, WaitAdaptive, WaitBlock}

// newTestReactor starts a reactor that is closed when the test ends.
func newTestReactor(t testing.TB, opts ...Option) *Reactor {
	t.Helper()
	r, err := New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
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

// stopShared stops a process-wide reactor behind Close's back, so that
// goleak sees no loop left, and forgets it.
func stopShared(t *testing.T, m WaitMode) {
	t.Cleanup(func() {
		s := &shared[m]
		if s.r != nil {
			for _, l := range s.r.loops {
				l.stop()
				<-l.done
			}
		}
		s.once, s.r, s.err = sync.Once{}, nil, nil
	})
}

// New without WithWaitMode waits in DefaultWaitMode, except that one P makes
// WaitAdaptive WaitBusy; Default makes the same choice on its first call.
func TestDefaultWaitModeFollowsGOMAXPROCS(t *testing.T) {
	oneP := DefaultWaitMode
	if oneP == WaitAdaptive {
		oneP = WaitBusy
	}
	for _, tc := range []struct {
		procs int
		want  WaitMode
	}{
		{1, oneP},
		{2, DefaultWaitMode},
		{4, DefaultWaitMode},
	} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", tc.procs), func(t *testing.T) {
			prev := runtime.GOMAXPROCS(tc.procs)
			t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
			r, err := New(WithLoops(1))
			require.NoError(t, err)
			defer r.Close()
			assert.Equal(t, tc.want, r.WaitMode())

			stopShared(t, tc.want)
			resetDefault(t)
			d, err := Default()
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.WaitMode(), "Default's first call")
			require.NoError(t, call(t, d.Loops()[0], func() {}))
		})
	}
}

// resetDefault lets the test make Default's first call in the process, and
// its cleanup lets the next test make it again: -cpu 1,2 would otherwise fix
// the mode at the other run's GOMAXPROCS. No test calls Default in parallel.
func resetDefault(t *testing.T) {
	defaultMode.once, defaultMode.m = sync.Once{}, 0
	t.Cleanup(func() { defaultMode.once, defaultMode.m = sync.Once{}, 0 })
}

func TestDefaultReactorIsSharedAndCannotBeClosed(t *testing.T) {
	stopShared(t, defaultWaitMode())
	resetDefault(t)
	r1, err := Default()
	require.NoError(t, err)
	r2, err := Shared(defaultWaitMode())
	require.NoError(t, err)
	assert.Same(t, r1, r2)
	assert.Equal(t, defaultWaitMode(), r1.WaitMode())
	// The choice is made once: at another GOMAXPROCS, Default is the same
	// reactor still.
	prev := runtime.GOMAXPROCS(1)
	r3, err := Default()
	runtime.GOMAXPROCS(prev)
	require.NoError(t, err)
	assert.Same(t, r1, r3, "Default changed with GOMAXPROCS")
	assert.ErrorIs(t, r1.Close(), errShared)
	loops := runtime.GOMAXPROCS(0) // one per P, half as many adaptive ones
	if r1.WaitMode() == WaitAdaptive {
		loops = max(loops/2, 1)
	}
	assert.Len(t, r1.Loops(), loops)
	require.NoError(t, call(t, r1.Loops()[0], func() {}))
}

func TestSharedReactorPerWaitMode(t *testing.T) {
	for _, m := range allModes {
		t.Run(m.String(), func(t *testing.T) {
			stopShared(t, m)
			r1, err := Shared(m)
			require.NoError(t, err)
			r2, err := Shared(m)
			require.NoError(t, err)
			assert.Same(t, r1, r2, "one reactor per mode and process")
			assert.Equal(t, m, r1.WaitMode())
			assert.ErrorIs(t, r1.Close(), errShared)
			require.NoError(t, call(t, r1.Loops()[0], func() {}))
		})
	}
}

func TestUnknownWaitModeIsRefused(t *testing.T) {
	for _, m := range []WaitMode{-1, waitModes, 99} {
		r, err := Shared(m)
		assert.Nil(t, r)
		assert.EqualError(t, err, fmt.Sprintf("reactor: unknown wait mode %d", int(m)))
		r, err = New(WithWaitMode(m))
		assert.Nil(t, r)
		assert.EqualError(t, err, fmt.Sprintf("reactor: unknown wait mode %d", int(m)))
	}
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
