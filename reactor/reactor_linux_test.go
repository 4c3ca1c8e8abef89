package reactor

import (
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

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

func openFDs(t testing.TB) int { t.Helper(); return testutil.OpenFDs(t) }

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

func TestRegisterReaderReportsWritableOnlyWhileWatched(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			r := newTestReactor(t, WithLoops(2), WithWaitMode(mode))
			l := r.Loops()[0]
			require.True(t, l.WatchesWritable())
			a, b := socketpair(t)
			defer unix.Close(a)
			defer unix.Close(b)
			evs := make(chan Events, 16)
			var reg Registration
			require.NoError(t, call(t, l, func() {
				var err error
				reg, err = l.RegisterReader(uintptr(a), HandlerFunc(func(ev Events) { evs <- ev }))
				assert.NoError(t, err)
			}))
			// A fresh socket is writable, but nobody asked: the first event
			// is the data's, and says nothing of room to write.
			_, err := unix.Write(b, []byte("ping"))
			require.NoError(t, err)
			assert.Equal(t, Readable, within(t, evs, 5*time.Second, "readable"))
			buf := make([]byte, 16)
			n, err := unix.Read(a, buf)
			require.NoError(t, err)
			assert.Equal(t, "ping", string(buf[:n]))

			// Switched on from a goroutine other than the loop, while the
			// socket is writable: reported at once.
			require.NoError(t, l.WatchWritable(reg, uintptr(a), true))
			assert.Equal(t, Writable, within(t, evs, 5*time.Second, "writable once watched"))
			require.NoError(t, l.WatchWritable(reg, uintptr(a), false))
			_, err = unix.Write(b, []byte("pong"))
			require.NoError(t, err)
			assert.Equal(t, Readable, within(t, evs, 5*time.Second, "readable, not writable once unwatched"))

			other := r.Loops()[1]
			assert.ErrorIs(t, other.WatchWritable(reg, uintptr(a), true), ErrClosed, "a registration of another loop")
			require.NoError(t, call(t, l, func() { assert.NoError(t, l.Unregister(reg)) }))
			assert.ErrorIs(t, l.WatchWritable(reg, uintptr(a), true), unix.ENOENT, "a registration already gone")
		})
	}
}
