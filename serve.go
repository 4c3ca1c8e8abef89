package localipc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/reactor"
)

// Handler serves sessions from the reactor loops, without a goroutine per
// session: OnOpen, then OnData as bytes arrive, then OnClose exactly once.
// See session.Handler for the contract of each callback.
type Handler = session.Handler

// LoopStats is one reactor loop's counters: its own (events, wake-ups,
// tasks) and those of the callback sessions it serves.
type LoopStats = session.LoopStats

// ErrInputLimit ends a callback session whose handler left more unconsumed
// input than WithMaxInput allows.
var ErrInputLimit = session.ErrInputLimit

var errShutdownOnLoop = fmt.Errorf("%w: Shutdown waits for sessions served by the reactor's loops, so it cannot run on one; call Close there", ErrNotSupported)

var errServed = fmt.Errorf("%w: the server hands its sessions to a Handler", ErrNotSupported)

// Serve creates a server on name whose sessions are served by h on the
// reactor's loops (the process-wide one unless WithReactor names another):
// no goroutine per session, and idle sessions hold no buffer. Names, flags,
// stale sockets and access options behave as for Listen. Accepted sessions
// go to the loop serving the fewest.
func Serve(name string, flags Flags, h Handler, opts ...Option) (*Server, error) {
	if h == nil {
		return nil, fmt.Errorf("localipc: Serve needs a Handler")
	}
	if err := session.CallbackFace(); err != nil {
		return nil, err
	}
	o := collectOptions(opts)
	r, err := o.reactorOf()
	if err != nil {
		return nil, err
	}
	path, err := resolveName(name, flags, true)
	if err != nil {
		return nil, err
	}
	ep, err := listen(path, flags, &o, false)
	if err != nil {
		return nil, err
	}
	srv := newServer(ep, o.peerCheck)
	a := &acceptor{srv: srv, r: r, loop: r.Least(), sessions: map[*Session]struct{}{}, stopped: make(chan struct{})}
	a.cfg = session.Config{Handler: h, Limits: o.limits, Tracker: a}
	srv.ev = a
	if err := a.start(); err != nil {
		return nil, err
	}
	return srv, nil
}

// acceptor is a Serve server's listening handle, owned by one loop. What it
// takes from the kernel, and how, is the listener of each system
// (serve_unix.go); what it does with a client is adopt.
type acceptor struct {
	listener // loop-owned

	srv  *Server
	r    *reactor.Reactor
	loop *reactor.Loop
	cfg  session.Config // shared by every session

	stopOnce sync.Once
	stopped  chan struct{} // closed once the listening socket is closed

	mu       sync.Mutex
	sessions map[*Session]struct{}
	idle     chan struct{} // closed when sessions empties; nil if no one waits
}

// onLoop runs f on loop l and waits for it: at once from l's own goroutine
// (Serve, or Close, from one of its handlers).
func onLoop(l *reactor.Loop, f func()) error {
	if l.OnLoop() {
		f()
		return nil
	}
	return l.Call(f)
}

// adopt hands an accepted client to loop l (on Unix the one serving the
// fewest sessions; on Windows the one whose port the handle is on), after
// the peer check. here says that the caller runs on l: the session then
// opens at once instead of in a task.
func (a *acceptor) adopt(h uintptr, l *reactor.Loop, here bool) {
	if !admit(h, a.srv.peerCheck) {
		return
	}
	// An error means the reactor is closing; the session is gone.
	if here {
		session.AttachHere(h, a.srv.addrs, l, &a.cfg)
		return
	}
	session.Attach(h, a.srv.addrs, l, &a.cfg)
}

// acceptBackoff is how long a Serve listener pauses when the system refuses
// it a resource (out of descriptors, a pipe instance): trying again at once
// would spin the loop.
const acceptBackoff = 10 * time.Millisecond

// Attached remembers a session until it is gone, for Shutdown.
func (a *acceptor) Attached(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[s] = struct{}{}
}

// Gone forgets a session once its OnClose has run.
func (a *acceptor) Gone(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, s)
	if len(a.sessions) == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
}

// markStopped tells waitStopped that the listening handle is closed.
func (a *acceptor) markStopped() { a.stopOnce.Do(func() { close(a.stopped) }) }

func (a *acceptor) waitStopped() { <-a.stopped }

// Shutdown stops accepting, removes the name, and lets the sessions of a
// Serve server finish until ctx ends; then it ends the rest (dropping what
// they had queued) and returns once every OnClose has run, with ctx.Err()
// if sessions had to be cut short. For a Listen server it is Close: its
// sessions belong to their callers.
func (s *Server) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if s.ev != nil && reactor.OnAnyLoop() {
		return errShutdownOnLoop
	}
	err := s.Close()
	if err == ErrClosed {
		err = nil
	}
	if s.ev == nil {
		return err
	}
	a := s.ev
	// Whoever closed the server, the listener must be gone before sessions
	// are counted: else one accepted after the count would be missed.
	a.waitStopped()
	idle := a.idleChan()
	select {
	case <-idle:
		return err
	case <-ctx.Done():
	}
	a.mu.Lock()
	rest := make([]*Session, 0, len(a.sessions))
	for sess := range a.sessions {
		rest = append(rest, sess)
	}
	a.mu.Unlock()
	for _, sess := range rest {
		sess.Abort(ipcerr.ErrCancelled)
	}
	<-idle // bounded: each session's loop ends it at its next iteration
	return ctx.Err()
}

// idleChan returns a channel closed when no session is left.
func (a *acceptor) idleChan() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	return a.idle
}

// Stats returns the counters of every loop of the reactor serving the
// server's sessions; nil for a Listen server.
func (s *Server) Stats() []LoopStats {
	if s == nil || s.ev == nil {
		return nil
	}
	return session.Stats(s.ev.r)
}
