package localipc

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/sock"
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

// acceptBackoff is how long a Serve listener pauses when the process is out
// of descriptors: accepting again at once would spin the loop on EMFILE.
const acceptBackoff = 10 * time.Millisecond

// Serve creates a server on name whose sessions are served by h on the
// reactor's loops (the process-wide one unless WithReactor names another):
// no goroutine per session, and idle sessions hold no buffer. Names, flags,
// stale sockets and access options behave as for Listen. Accepted sessions
// go to the loop serving the fewest.
func Serve(name string, flags Flags, h Handler, opts ...Option) (*Server, error) {
	if h == nil {
		return nil, fmt.Errorf("localipc: Serve needs a Handler")
	}
	o := collectOptions(opts)
	r, err := o.reactorOf()
	if err != nil {
		return nil, err
	}
	path, fd, ino, err := listenFD(name, flags, &o)
	if err != nil {
		return nil, err
	}
	srv := newServer(path, ino, o.peerCheck, nil, nil)
	a := &acceptor{
		srv: srv, r: r, loop: r.Least(), fd: fd,
		sessions: map[*Session]struct{}{}, stopped: make(chan struct{}),
	}
	a.cfg = session.Config{Handler: h, Limits: o.limits, Tracker: a}
	srv.ev = a
	var regErr error
	register := func() { a.reg, regErr = a.loop.Register(uintptr(fd), a) }
	if a.loop.OnLoop() {
		register() // Serve from a handler of that very loop
	} else if err := a.loop.Call(register); err != nil {
		regErr = err
	}
	if err := regErr; err != nil {
		sock.Unlink(path, ino)
		sock.Close(fd)
		return nil, err
	}
	return srv, nil
}

// acceptor is a Serve server's listening socket, owned by one loop.
type acceptor struct {
	srv  *Server
	r    *reactor.Reactor
	loop *reactor.Loop
	cfg  session.Config // shared by every session

	// loop-owned
	fd      int // -1 once closed
	reg     reactor.Registration
	backoff *reactor.Timer

	stopOnce sync.Once
	stopped  chan struct{} // closed once the listening socket is closed

	mu       sync.Mutex
	sessions map[*Session]struct{}
	idle     chan struct{} // closed when sessions empties; nil if no one waits
}

func (a *acceptor) OnEvents(ev reactor.Events) {
	if ev&reactor.Shutdown != 0 {
		a.closeListener()
		return
	}
	if ev&reactor.Readable != 0 && a.backoff == nil {
		a.acceptAll()
	}
}

// acceptAll takes every pending client; the registration is edge-triggered.
func (a *acceptor) acceptAll() {
	for a.fd >= 0 {
		nfd, err := sock.Accept(a.fd)
		switch err {
		case nil:
		case syscall.EAGAIN:
			return
		case syscall.EINTR, syscall.ECONNABORTED:
			continue
		default:
			// Out of descriptors (or worse): pause, then try again, since
			// no new edge comes for the clients already queued.
			a.backoff = a.loop.AfterFunc(acceptBackoff, func() {
				a.backoff = nil
				a.acceptAll()
			})
			return
		}
		if !admit(nfd, a.srv.peerCheck) {
			continue
		}
		// An error means the reactor is closing; the session is gone.
		session.Attach(uintptr(nfd), a.srv.addrs, session.LeastLoaded(a.r), &a.cfg)
	}
}

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

// stop closes the listening socket on its loop; any goroutine. From the
// loop itself (a handler closing its server) it closes it at once; if the
// reactor is closing, its Shutdown event closes the socket.
func (a *acceptor) stop() {
	if a.loop.OnLoop() {
		a.closeListener()
		return
	}
	a.loop.Post(a.closeListener)
}

func (a *acceptor) closeListener() {
	if a.fd < 0 {
		return
	}
	if a.backoff != nil {
		a.backoff.Stop()
		a.backoff = nil
	}
	a.loop.Unregister(a.reg)
	sock.Close(a.fd)
	a.fd = -1
	a.stopOnce.Do(func() { close(a.stopped) })
}

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
