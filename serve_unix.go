//go:build unix

package localipc

import (
	"errors"
	"sync"

	"github.com/localipc/localipc/internal/sock"
	"github.com/localipc/localipc/reactor"
	"golang.org/x/sys/unix"
)

// listener is a Serve server's listening socket on its loop (Unix): it is
// registered there, and every readable edge accepts what is queued.
type listener struct {
	fd      int // loop-owned; -1 once closed
	reg     reactor.Registration
	backoff *reactor.Timer

	// mu makes the name's removal one step, taken by whoever comes first:
	// Close on its goroutine, or closeListener on the loop (Cancel, the
	// reactor's Shutdown), which takes it before it closes fd. Each accept
	// holds it too, so that none is made once Close has returned from
	// another loop, which does not wait for the close.
	mu         sync.Mutex
	released   bool  // the name is gone: accept no more
	releaseErr error // what the removal said, for Close
}

// release removes the socket file if it is still ours, once; any goroutine.
// Later calls return what the first said. closeListener runs it before it
// closes fd, and a call that comes after must do nothing: with fd closed,
// the inode check could pass on a newcomer's file (endpoint.release).
func (a *acceptor) release() error {
	a.listener.mu.Lock()
	defer a.listener.mu.Unlock()
	if !a.released {
		a.released = true
		a.releaseErr = a.srv.endpoint.release()
	}
	return a.releaseErr
}

// start registers the listening socket on the acceptor's loop, or, if that
// fails, removes the name and closes it.
func (a *acceptor) start() error {
	a.fd = a.srv.endpoint.fd
	var regErr error
	if err := onLoop(a.loop, func() { a.reg, regErr = a.loop.Register(uintptr(a.fd), a) }); err != nil {
		regErr = err
	}
	if regErr != nil {
		a.release()
		sock.Close(a.fd)
		return regErr
	}
	return nil
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
		nfd, err := a.accept()
		switch err {
		case errReleased:
			return // closeListener is posted
		case nil:
			// acceptAll runs on the acceptor's loop.
			l := a.r.Least()
			a.adopt(uintptr(nfd), l, l == a.loop)
		case unix.EAGAIN:
			a.loop.Arm(a.reg, reactor.Readable)
			return
		default:
			// Out of descriptors (or worse): pause, then try again, since
			// no new edge comes for the clients already queued.
			a.backoff = a.loop.AfterFunc(acceptBackoff, func() {
				a.backoff = nil
				a.acceptAll()
			})
			return
		}
	}
}

// errReleased says that Close has removed the name: no client is accepted.
var errReleased = errors.New("the name is released")

// accept takes one client, unless the name is gone; on the loop.
func (a *acceptor) accept() (int, error) {
	a.listener.mu.Lock()
	defer a.listener.mu.Unlock()
	if a.released {
		return -1, errReleased
	}
	return sock.Accept(a.fd)
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

// closeListener removes the name and closes the listening socket, on the
// loop. Cancel and the reactor's Shutdown come here without Close: the name
// goes now, while fd still holds our inode (see release).
func (a *acceptor) closeListener() {
	if a.fd < 0 {
		return
	}
	a.release()
	if a.backoff != nil {
		a.backoff.Stop()
		a.backoff = nil
	}
	a.loop.Unregister(a.reg)
	sock.Close(a.fd)
	a.fd = -1
	a.markStopped()
}
