// Package reactor multiplexes file descriptors over a few event loops, one
// goroutine each, in the manner of Go's runtime poller but owned by localipc:
// registrations are edge-triggered, the kernel holds (slot, generation) tokens
// instead of pointers, other goroutines hand work to a loop by posting tasks,
// and each loop keeps its own timer heap. See docs/design.md for the data path.
//
// The loops wait on epoll on Linux, kqueue on macOS and the BSDs, and a
// completion port on Windows (poller.go has the contract they share).
package reactor

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/localipc/localipc/internal/ipcerr"
)

// ErrNotSupported is returned by New on platforms without a poller yet.
var ErrNotSupported = ipcerr.ErrNotSupported

// ErrClosed is returned by Post and Register once the reactor is closing.
var ErrClosed = ipcerr.ErrClosed

// WaitMode is how an idle loop waits for its kernel queue. It decides how fast
// a loop reacts and how fast the goroutines it wakes get to run. The default
// was chosen with the server in a process of its own, as servers are used
// (the bench module's W1 and W3, with Go and C clients, spread over the CPUs
// and pinned to one); BenchmarkWake (bench_linux_test.go), where client and
// server share a process, is the second figure. docs/design.md has both.
type WaitMode int

const (
	// WaitNetpoll parks the loop goroutine in Go's netpoller on the kernel
	// queue's descriptor. No thread is held while the loop idles, and no
	// CPU is spent. It is the fastest when the loop's clients are
	// goroutines of the same process (BenchmarkWake), the slowest when they
	// are other processes. A kernel queue without a pollable descriptor (a
	// completion port) has its loop block in the kernel instead, on a
	// thread it does not lock.
	WaitNetpoll WaitMode = iota
	// WaitLocked locks the loop to an OS thread that blocks in epoll_wait.
	// Goroutines that the loop's handlers wake wait for its P until the
	// runtime takes it from the blocked thread.
	WaitLocked
	// WaitBusy polls without blocking up to 64 times, yielding between polls
	// to the process's goroutines and then to the CPU's other threads, and
	// only then parks as WaitNetpoll does (or blocks in the kernel where the
	// queue is not pollable). A peer that answers within tens of
	// microseconds finds the loop awake; an idle loop parks. On Linux, in a
	// process that has one P when the loop starts, the loop times its
	// yields: when four spins in a row found their event during a yield
	// that ran another thread (a peer on the loop's own CPU, which only
	// answers while the loop is off it), the next 1,024 waits block as
	// WaitBlock's do, and the spin then looks again.
	WaitBusy
	// WaitAdaptive waits according to its last wait. After one event other
	// than a wake-up (a session whose peer is about to answer) it polls up
	// to 64 times, yielding the CPU to its other threads in between but not
	// the P to the Go scheduler: runtime.Gosched wakes another thread of the
	// process to look for work, and with a Go client in another process
	// those threads cost about four futex calls and five context switches
	// more per round trip, and nearly half the round trips. After a batch
	// of several events, after an empty wait, or once the polls are spent,
	// it blocks in epoll_wait: a loop that serves many sessions then
	// gathers their events into large batches instead of picking them up
	// one poll at a time. The loop does not lock its thread: on the KVM
	// guest measured, which halts an idle CPU at once, a locked spin kept a
	// C client on a CPU of its own that halted between requests, and each
	// reply waited for it to wake (docs/design.md, where why the lock did
	// that is left open). A goroutine that a handler wakes waits on the
	// loop's P until another P's thread steals it, or until the spin ends
	// and the runtime's monitor takes the P from the blocked loop (about
	// ten times WaitBusy's hand-off in BenchmarkWake): a server whose
	// handlers hand work to goroutines does better with WaitBusy, and so
	// does one with GOMAXPROCS 1, where the loop holds the only P while it
	// spins (New defaults to WaitBusy there). The yields are made on Linux
	// only (osYield); elsewhere the spin is bare polls. The default on
	// Linux, where it was measured.
	WaitAdaptive
	// WaitBlock polls once and, if that finds nothing, passes once through
	// the Go scheduler, so that the goroutines the last handlers woke run
	// first, and then blocks in the kernel queue's wait on an unlocked
	// thread, as gnet's loops do. It neither spins nor yields the CPU: on a
	// machine where the clients share the loop's one CPU it is the fastest
	// mode (under Linux's EEVDF scheduler a sched_yield moves the loop's
	// deadline back, and the client then preempts the loop at each of its
	// wake-ups), and it spends no CPU on polls, which counts where a CPU
	// quota does. Where a client answers from another CPU, WaitBusy's spin
	// is awake when the answer comes and this mode is not: about a third of
	// WaitBusy's round trips with one P there. While the loop blocks its P
	// stays with the blocked thread until the runtime's monitor takes it
	// (20 µs to 10 ms), and with one P a goroutine made ready by a timer or
	// the netpoller waits that long. docs/design.md has the figures.
	WaitBlock
)

func (m WaitMode) String() string {
	switch m {
	case WaitNetpoll:
		return "netpoll"
	case WaitLocked:
		return "locked"
	case WaitBusy:
		return "busy"
	case WaitAdaptive:
		return "adaptive"
	case WaitBlock:
		return "block"
	}
	return "unknown"
}

// waitModes is how many wait modes there are: the valid ones are below it.
const waitModes = 5

// defaultLoops is how many loops New starts without WithLoops: one per
// GOMAXPROCS, except that WaitAdaptive's loops, which hold their P while
// they spin, take half of them (at least one). The clients of local IPC run
// on the same machine, and the goroutines that handlers wake need a P that
// no loop holds; measured in docs/design.md ("How a loop waits").
func defaultLoops(m WaitMode) int {
	n := runtime.GOMAXPROCS(0)
	if m == WaitAdaptive {
		n /= 2
	}
	return max(n, 1)
}

// valid reports whether m is one of the wait modes.
func (m WaitMode) valid() bool { return m >= 0 && m < waitModes }

type config struct {
	loops      int
	waitMode   WaitMode
	taskBudget int
	newPoller  func() (kernelQueue, error) // the platform's; tests script a fake
}

// Option configures New.
type Option func(*config)

// WithLoops sets the number of loops; n <= 0 means the mode's default: one
// per GOMAXPROCS, half as many for WaitAdaptive.
func WithLoops(n int) Option { return func(c *config) { c.loops = n } }

// WithWaitMode sets how idle loops wait (default: DefaultWaitMode, but
// WaitBusy with GOMAXPROCS 1 where DefaultWaitMode is WaitAdaptive).
func WithWaitMode(m WaitMode) Option { return func(c *config) { c.waitMode = m } }

// WithTaskBudget sets how many posted tasks a loop runs per iteration before
// it looks at I/O again (default 256); n <= 0 keeps the default.
func WithTaskBudget(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.taskBudget = n
		}
	}
}

const defaultTaskBudget = 256

// Reactor is a set of event loops. Its methods may be called from any
// goroutine.
type Reactor struct {
	loops     []*Loop
	mode      WaitMode
	shared    bool // one of Shared's: never closed
	closeOnce sync.Once
}

// New starts a reactor. Its loops run until Close.
func New(opts ...Option) (*Reactor, error) {
	cfg := config{waitMode: defaultWaitMode(), taskBudget: defaultTaskBudget, newPoller: newPoller}
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.waitMode.valid() {
		return nil, fmt.Errorf("reactor: unknown wait mode %d", int(cfg.waitMode))
	}
	if cfg.loops <= 0 {
		cfg.loops = defaultLoops(cfg.waitMode)
	}
	r := &Reactor{mode: cfg.waitMode}
	for i := 0; i < cfg.loops; i++ {
		l, err := newLoop(i, &cfg)
		if err != nil {
			for _, started := range r.loops {
				started.stop()
				<-started.done
			}
			return nil, err
		}
		r.loops = append(r.loops, l)
		l.start()
	}
	return r, nil
}

// shared holds the process-wide reactors, one per wait mode, each started on
// first use.
var shared [waitModes]struct {
	once sync.Once
	r    *Reactor
	err  error
}

// Shared returns the process-wide reactor whose loops wait in mode m,
// starting it on first use with the mode's default number of loops. It is
// never closed.
// A process that serves in two modes has two such reactors; most use one.
// Any goroutine.
func Shared(m WaitMode) (*Reactor, error) {
	if !m.valid() {
		return nil, fmt.Errorf("reactor: unknown wait mode %d", int(m))
	}
	s := &shared[m]
	s.once.Do(func() {
		s.r, s.err = New(WithWaitMode(m))
		if s.r != nil {
			s.r.shared = true
		}
	})
	return s.r, s.err
}

// Default returns the process-wide reactor of the default wait mode: that of
// New without WithWaitMode, chosen on the first call, so that a later change
// of GOMAXPROCS (the runtime's own, or the program's) does not start a
// second default reactor beside the first. It is never closed.
// Any goroutine.
func Default() (*Reactor, error) {
	defaultMode.once.Do(func() { defaultMode.m = defaultWaitMode() })
	return Shared(defaultMode.m)
}

// defaultMode is Default's wait mode, fixed on its first call.
var defaultMode struct {
	once sync.Once
	m    WaitMode
}

// defaultWaitMode is DefaultWaitMode, except that a process of one P gets
// WaitBusy instead of WaitAdaptive. WaitAdaptive's spin yields the CPU but
// keeps the P, so with one P every other goroutine of the process waits it
// out; and with one P WaitBusy made 2.9 times WaitBlock's round trips where
// the client answers from another CPU, and since it blocks while its client
// shares the server's CPU, as many as WaitBlock there: docs/design.md.
func defaultWaitMode() WaitMode {
	if DefaultWaitMode == WaitAdaptive && runtime.GOMAXPROCS(0) == 1 {
		return WaitBusy
	}
	return DefaultWaitMode
}

// WaitMode returns how the reactor's loops wait. Any goroutine.
func (r *Reactor) WaitMode() WaitMode { return r.mode }

var errShared = errors.New("reactor: a process-wide reactor (Default, Shared) cannot be closed")

// Loops returns the reactor's loops, in index order.
func (r *Reactor) Loops() []*Loop { return r.loops }

// Least returns the loop with the least load (Loop.AddLoad), lowest index
// first: the one placement rule for spreading new sessions and listeners.
func (r *Reactor) Least() *Loop {
	best := r.loops[0]
	bestN := best.load.Load()
	for _, l := range r.loops[1:] {
		if n := l.load.Load(); n < bestN {
			best, bestN = l, n
		}
	}
	return best
}

// Stats returns a snapshot of every loop's counters.
func (r *Reactor) Stats() []LoopStats {
	out := make([]LoopStats, len(r.loops))
	for i, l := range r.loops {
		out[i] = l.Stats()
	}
	return out
}

// Close stops every loop and waits for them: tasks already posted run,
// every remaining registration gets a Shutdown event, and the descriptors the
// reactor opened (kernel queues, wake-ups) are closed. Registered fds belong
// to their owners and stay open. A second Close returns ErrClosed. Close must
// not be called from a loop goroutine, which would wait for itself.
func (r *Reactor) Close() error {
	if r.shared {
		return errShared
	}
	err := ErrClosed
	r.closeOnce.Do(func() {
		err = nil
		for _, l := range r.loops {
			l.stop()
		}
		for _, l := range r.loops {
			<-l.done
		}
	})
	return err
}
