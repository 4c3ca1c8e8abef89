package session_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/localipc/localipc/reactor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// infinite is IPRT's RT_INDEFINITE_WAIT: any negative timeout.
const infinite time.Duration = -1

// wait bounds every wait of these tests that is not itself under test.
const wait = 10 * time.Second

// noAddrs are the addresses of a socketpair's sessions: it has none.
var noAddrs = &session.Addrs{}

// noFDLeak checks at cleanup that the test left as many descriptors open as
// it found. Call it first, so that its check runs after every other cleanup.
func noFDLeak(t testing.TB) {
	t.Helper()
	before := testutil.OpenFDs(t)
	t.Cleanup(func() { assert.Equal(t, before, testutil.OpenFDs(t), "descriptors leaked") })
}

// newSession makes a blocking session of fd, closed at cleanup.
func newSession(t testing.TB, fd uintptr) *session.Session {
	t.Helper()
	s, err := session.New(fd, noAddrs)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// pair returns the two blocking sessions of a socketpair.
func pair(t testing.TB) (a, b *session.Session) {
	t.Helper()
	fa, fb := socketpair(t)
	return newSession(t, fa), newSession(t, fb)
}

// fill makes s's next Write block until its peer reads.
func fill(t testing.TB, s *session.Session) int {
	t.Helper()
	rc, err := s.SyscallConn()
	require.NoError(t, err)
	return fillSendBuffer(t, rc)
}

// blockedIn waits until n calls of the session, started on other
// goroutines, are asleep: in the runtime poller, or queued for the turn.
func blockedIn(t testing.TB, n int) {
	t.Helper()
	testutil.WaitBlocked(t, n, "internal/session.(*Session).", "IO wait", "sync.Mutex.Lock", "chan receive", "select")
}

// pattern is n bytes that differ with seed and position, for byte-exact
// comparisons of long streams.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ byte(i>>9) ^ seed
	}
	return b
}

// ending is one OnClose.
type ending struct {
	s        *session.Session
	err      error
	writeErr error // what Write said from inside OnClose
	at       time.Time
}

// handler is a session.Handler made of functions (nil ones accept the
// session and consume everything) that logs what it is called with.
type handler struct {
	open func(s *session.Session) error
	data func(s *session.Session, b []byte) int

	got   chan []byte // a copy of every OnData's data
	ended chan ending // every OnClose

	mu     sync.Mutex
	log    map[*session.Session][]string // "open", "data", "close", in call order
	closes map[*session.Session]int
}

func newHandler() *handler {
	return &handler{
		got:    make(chan []byte, 1<<12),
		ended:  make(chan ending, 64),
		log:    map[*session.Session][]string{},
		closes: map[*session.Session]int{},
	}
}

func (h *handler) record(s *session.Session, what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log[s] = append(h.log[s], what)
}

func (h *handler) OnOpen(s *session.Session) error {
	h.record(s, "open")
	if h.open != nil {
		return h.open(s)
	}
	return nil
}

func (h *handler) OnData(s *session.Session, b []byte) int {
	h.record(s, "data")
	select {
	case h.got <- append([]byte(nil), b...):
	default: // a test that reads many chunks does not look at them here
	}
	if h.data != nil {
		return h.data(s, b)
	}
	return len(b)
}

func (h *handler) OnClose(s *session.Session, err error) {
	_, werr := s.Write([]byte("late"))
	h.record(s, "close")
	h.mu.Lock()
	h.closes[s]++
	h.mu.Unlock()
	h.ended <- ending{s: s, err: err, writeErr: werr, at: time.Now()}
}

// events returns what h was called with for s, in order, with runs of
// "data" folded into one: how the kernel splits a stream is not the point.
func (h *handler) events(s *session.Session) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.log[s] {
		if e == "data" && len(out) > 0 && out[len(out)-1] == "data" {
			continue
		}
		out = append(out, e)
	}
	return out
}

// end waits for the next OnClose.
func (h *handler) end(t testing.TB) ending {
	t.Helper()
	return testutil.Within(t, h.ended, wait, "OnClose")
}

// bed is a reactor of its own for one test, closed at cleanup, after which
// every session attached through it must have had exactly one OnClose (a
// session still open when the reactor closes gets its one then).
type bed struct {
	t        testing.TB
	r        *reactor.Reactor
	attached []attachment
}

type attachment struct {
	h *handler
	s *session.Session
}

func newBed(t testing.TB, loops int) *bed {
	t.Helper()
	if err := session.CallbackFace(); err != nil {
		t.Skip(err.Error())
	}
	r, err := reactor.New(reactor.WithLoops(loops))
	require.NoError(t, err)
	b := &bed{t: t, r: r}
	t.Cleanup(func() {
		r.Close()
		for _, a := range b.attached {
			a.h.mu.Lock()
			assert.Equal(t, 1, a.h.closes[a.s], "OnClose calls of a session")
			a.h.mu.Unlock()
		}
	})
	return b
}

// attach serves one end of a socketpair by h on loop i of the bed and
// returns that session and a blocking session of the other end: its peer,
// which has sent early before the session was attached.
func (b *bed) attach(i int, h *handler, lim session.Limits, early ...string) (s, peer *session.Session) {
	b.t.Helper()
	return b.attachAfter(i, h, lim, func(peer *session.Session) {
		for _, msg := range early {
			send(b.t, peer, msg)
		}
	})
}

// attachAfter is attach with the peer's doings before the session is
// attached given by before, so that the session's first readable edge
// brings all of them at once.
func (b *bed) attachAfter(i int, h *handler, lim session.Limits, before func(peer *session.Session)) (s, peer *session.Session) {
	b.t.Helper()
	fs, fp := socketpair(b.t)
	peer = newSession(b.t, fp)
	before(peer)
	s, err := session.Attach(fs, noAddrs, b.r.Loops()[i], &session.Config{Handler: h, Limits: lim})
	require.NoError(b.t, err)
	b.attached = append(b.attached, attachment{h, s})
	return s, peer
}

// stats returns loop i's counters once the loop has finished what it was
// doing when stats was called, so that they include its effects.
func (b *bed) stats(i int) session.LoopStats {
	b.t.Helper()
	require.NoError(b.t, b.r.Loops()[i].Call(func() {}))
	return session.Stats(b.r)[i]
}

// onLoop runs f on loop i and waits for it.
func (b *bed) onLoop(i int, f func()) {
	b.t.Helper()
	require.NoError(b.t, b.r.Loops()[i].Call(f))
}

// limits are DefaultLimits with the watermarks given.
func limits(low, high int) session.Limits {
	lim := session.DefaultLimits
	lim.LowWater, lim.HighWater = low, high
	return lim
}

// noHalfClose is why a test of CloseWrite skips on Windows.
const noHalfClose = "a byte-mode pipe has no half-close: CloseWrite is ErrNotSupported on Windows"

// skipOnWindows skips the rest of the test on Windows, saying why.
func skipOnWindows(t testing.TB, why string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip(why)
	}
}

// isErr asserts that err is want under errors.Is and that IPRT code sees
// it as want too: the same status from ipcerr.Status.
func isErr(t testing.TB, err, want error, msgAndArgs ...any) bool {
	t.Helper()
	return assert.ErrorIs(t, err, want, msgAndArgs...) &&
		assert.Equal(t, ipcerr.Status(want), ipcerr.Status(err), msgAndArgs...)
}
