package localipc

import (
	"errors"
	"sync"

	"github.com/localipc/localipc/internal/winapi"
	"github.com/localipc/localipc/reactor"
	"golang.org/x/sys/windows"
)

// listener is a Serve server's pending pipe instances on Windows, spread over
// the reactor's loops: each is registered on its loop, whose completion port
// reports its overlapped ConnectNamedPipe as Readable (a pipe instance that
// waits for a client is the port's listening socket, see postConnect in
// reactor/iocp_windows.go). A client lands on an instance of some loop, and
// that loop owns its session, since a handle joins one completion port for
// its life; a fresh instance takes the accepted one's place on the same loop,
// so a burst of clients finds instances waiting while no callback runs.
//
// Closing waits for no loop: closeListener closes every instance's handle
// under mu, from its own loop, which ends the connects in flight; each
// instance's loop unregisters it when the aborted completion comes back. So
// the name is gone once Close returns, whatever state the instances are in,
// and no two loops closing each other's servers can wait for each other.
type listener struct {
	mu      sync.Mutex
	insts   map[*pipeInstance]struct{} // open instances
	closing bool                       // no instance may be made any more
}

// pipeInstance is one pending instance of a Serve server.
type pipeInstance struct {
	a    *acceptor
	loop *reactor.Loop
	h    windows.Handle       // under the listener's mu; 0 once closed
	reg  reactor.Registration // loop-owned
}

// start puts the first instance, made by listen, and max(backlog, loops)-1
// fresh ones on the loops, round the loops in turn. If one cannot be
// placed, every instance is closed.
func (a *acceptor) start() error {
	ep := a.srv.endpoint.pipes
	loops := a.r.Loops()
	a.insts = make(map[*pipeInstance]struct{})
	first := ep.first
	ep.first = 0
	for i := range max(backlog, len(loops)) {
		l := loops[i%len(loops)]
		var err error
		place := func() {
			if i == 0 {
				err = a.place(l, first)
			} else {
				err = a.replace(l)
			}
		}
		if cerr := onLoop(l, place); cerr != nil {
			err = cerr
		}
		if err != nil {
			a.closeListener()
			return err
		}
	}
	return nil
}

// replace makes a fresh instance and places it on l. Loop l only.
func (a *acceptor) replace(l *reactor.Loop) error {
	a.listener.mu.Lock()
	closing := a.closing
	a.listener.mu.Unlock()
	if closing {
		return nil
	}
	h, err := a.srv.endpoint.pipes.create(false)
	if err != nil {
		return err
	}
	return a.place(l, h)
}

// place registers instance h on l, whose port then waits for its client;
// it closes h if that fails or the listener is closing. Loop l only.
func (a *acceptor) place(l *reactor.Loop, h windows.Handle) error {
	pi := &pipeInstance{a: a, loop: l, h: h}
	a.listener.mu.Lock()
	defer a.listener.mu.Unlock()
	if a.closing {
		closeHandle(uintptr(h))
		return nil
	}
	reg, err := l.Register(uintptr(h), pi)
	if err != nil {
		closeHandle(uintptr(h))
		return err
	}
	pi.reg = reg
	a.insts[pi] = struct{}{}
	return nil
}

// OnEvents: Readable (or a hang-up) on an instance is its connect back from
// the port. A client there, or one that came and went already (the pipe is
// broken: its session reads the end, as a socket accepted after its client
// left does), is taken: the instance leaves the listener, a fresh one takes
// its place and the handle becomes a session of this loop. An instance still
// listening (its connect was cancelled by someone else) waits again;
// anything else makes it unusable, and it is replaced.
//
// The fresh registration's Writable is looked at too, because a client may
// meet an instance between CreateNamedPipe and its registration:
// the poller then finds the pipe connected and waits for its first byte
// instead of a connect, and a client that waits for the server to speak
// would hold the instance, lost to the backlog, for ever. Taking it at
// once is safe in every order: taking unregisters first, so a connect
// completion still on its way is dropped with the registration.
func (pi *pipeInstance) OnEvents(ev reactor.Events) {
	a := pi.a
	if ev&reactor.Shutdown != 0 {
		a.closeListener() // the reactor is closing: all of it goes
		return
	}
	if ev&(reactor.Readable|reactor.HangUp|reactor.Error) == 0 && !pi.metItsClient() {
		return // the fresh registration's Writable, with no client yet
	}
	a.listener.mu.Lock()
	h := pi.h
	if h == 0 {
		// closeListener closed the handle off this loop; this is the
		// aborted connect.
		a.listener.mu.Unlock()
		pi.loop.Unregister(pi.reg)
		return
	}
	_, err := winapi.PeekNamedPipe(h)
	if errors.Is(err, windows.ERROR_PIPE_LISTENING) && pi.loop.Arm(pi.reg, reactor.Readable) == nil {
		a.listener.mu.Unlock()
		return
	}
	pi.loop.Unregister(pi.reg)
	pi.h = 0
	delete(a.insts, pi)
	a.listener.mu.Unlock()
	client := err == nil || errors.Is(err, windows.ERROR_BROKEN_PIPE)
	if !client {
		closeHandle(uintptr(h))
	}
	a.replaceLater(pi.loop)
	if client {
		a.take(uintptr(h), pi.loop)
	}
}

// metItsClient reports whether a client is in the instance already, or has
// been and gone: for the fresh registration's Writable (see OnEvents).
func (pi *pipeInstance) metItsClient() bool {
	pi.a.listener.mu.Lock()
	h := pi.h
	pi.a.listener.mu.Unlock()
	if h == 0 {
		return false
	}
	_, err := winapi.PeekNamedPipe(h)
	return err == nil || errors.Is(err, windows.ERROR_BROKEN_PIPE)
}

// replaceLater replaces an instance that has left, and tries again after a
// pause while the system refuses a new one, so that the backlog stays whole.
// Loop l only.
func (a *acceptor) replaceLater(l *reactor.Loop) {
	if a.replace(l) != nil {
		l.AfterFunc(acceptBackoff, func() { a.replaceLater(l) })
	}
}

// take makes a session of a client's handle on l, after RestrictToUser's
// check that the client is in our Windows session, as IPRT trunk's.
// Loop l only.
func (a *acceptor) take(h uintptr, l *reactor.Loop) {
	ep := a.srv.endpoint.pipes
	if ep.restricted && !sameSession(windows.Handle(h), ep.session) {
		closeHandle(h)
		return
	}
	a.adopt(h, l, true)
}

// stop closes every instance from the calling goroutine (closeListener),
// which waits for no loop.
func (a *acceptor) stop() { a.closeListener() }

// release: a pipe name goes with its last instance, which closeListener
// closes; there is no file to remove.
func (a *acceptor) release() error { return nil }

// closeListener closes every instance, from any goroutine (see listener):
// the handle now, its registration once its loop has the aborted connect
// back (at once on this goroutine's own loop). A client connected to an
// instance no loop has taken yet sees its pipe broken.
func (a *acceptor) closeListener() {
	a.listener.mu.Lock()
	a.closing = true
	for pi := range a.insts {
		if pi.loop.OnLoop() {
			// Before the close: once closed, the handle's value may go to
			// another file, which del's CancelIoEx would then be aimed at.
			pi.loop.Unregister(pi.reg)
		}
		closeHandle(uintptr(pi.h))
		pi.h = 0
	}
	clear(a.insts)
	a.listener.mu.Unlock()
	if first := a.srv.endpoint.pipes.first; first != 0 {
		// start never placed it (Serve failed before).
		a.srv.endpoint.pipes.first = 0
		closeHandle(uintptr(first))
	}
	a.markStopped()
}
