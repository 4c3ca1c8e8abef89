package localipc

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/reactor"
)

// Session is one end of a connection: RTLocalIpcSession, and a net.Conn.
type Session = session.Session

// Server is a listening endpoint: RTLocalIpcServer, and a net.Listener.
// Any goroutine may call any method.
//
// Its rules (sticky cancel, close, the peer check) are here, the same on
// every system; its name and its listening handle are an endpoint, whose
// verbs live in one file per system (server_unix.go).
type Server struct {
	endpoint           // the name and the listening handle
	ev       *acceptor // Serve's listener on a reactor loop; nil for Listen
	addr     *net.UnixAddr
	addrs    *session.Addrs // what every accepted session reports

	peerCheck func(pid, uid, gid int) error

	// mu serializes the cancels of Cancel and Close, which both move the
	// listener's read deadline (or stop Serve's acceptor).
	mu        sync.Mutex
	cancelled atomic.Bool // sticky
	closed    atomic.Bool
}

// Listen creates a server on name (RTLocalIpcServerCreate). The name is
// checked and mapped as IPRT does (see Path). A stale socket file left by a
// dead server is replaced; a live server's name gives ErrAddressInUse, and a
// file of any other kind at the path is never removed. With RestrictToUser
// the socket is mode 0600; WithAccessMode and WithGroupAccess set the mode and
// group before any client can connect.
func Listen(name string, flags Flags, opts ...Option) (*Server, error) {
	o := collectOptions(opts)
	path, err := resolveName(name, flags, true)
	if err != nil {
		return nil, err
	}
	ep, err := listen(path, flags, &o, true)
	if err != nil {
		return nil, err
	}
	return newServer(ep, o.peerCheck), nil
}

// unnamed is the address of a client's end: Unix clients do not bind.
var unnamed = &net.UnixAddr{Net: "unix"}

func newServer(ep endpoint, peerCheck func(pid, uid, gid int) error) *Server {
	addr := &net.UnixAddr{Name: ep.path, Net: "unix"}
	return &Server{endpoint: ep, addr: addr, addrs: &session.Addrs{Local: addr, Remote: unnamed}, peerCheck: peerCheck}
}

// admit applies the peer check to an accepted handle: false means the
// client was refused and h is closed.
func admit(h uintptr, check func(pid, uid, gid int) error) bool {
	if check == nil {
		return true
	}
	cred, err := peerCredOf(h)
	if err == nil {
		err = check(cred.PID, cred.UID, cred.GID)
	}
	if err != nil {
		closeHandle(h)
		return false
	}
	return true
}

func (s *Server) check() error {
	if s == nil || s.closed.Load() {
		return ErrClosed
	}
	if s.cancelled.Load() {
		return ErrCancelled
	}
	return nil
}

// AcceptSession waits for a client and returns its session
// (RTLocalIpcServerListen). Cancel, or Close, wakes a pending call with
// ErrCancelled (as IPRT's destroy does); after Cancel every later call
// returns ErrCancelled, after Close ErrClosed. Several goroutines may wait
// at once; each client goes to one of them.
func (s *Server) AcceptSession() (*Session, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if s.ev != nil {
		return nil, errServed
	}
	for {
		h, woken, err := s.endpoint.accept()
		switch {
		case woken && s.cancelled.Load():
			return nil, ErrCancelled
		case woken:
			return nil, ErrClosed
		case err != nil:
			// Out of descriptors (EMFILE, ENFILE) comes back to the caller
			// (Status maps it to VERR_TOO_MANY_OPEN_FILES) instead of being
			// retried here: only the caller can free descriptors, and a
			// retry loop would spin. net/http's Serve backs off on it.
			return nil, err
		}
		if admit(h, s.peerCheck) {
			return session.New(h, s.addrs)
		}
	}
}

// Accept is AcceptSession for net.Listener: after Close it returns an error
// matching net.ErrClosed, which net/http's Serve takes as the end; a nil
// server gives ErrClosed.
func (s *Server) Accept() (net.Conn, error) {
	c, err := s.AcceptSession()
	if err != nil {
		if s != nil && s.closed.Load() && errors.Is(err, ErrCancelled) {
			err = ErrClosed
		}
		return nil, err
	}
	return c, nil
}

// Cancel wakes a pending AcceptSession with ErrCancelled, and makes every
// later one fail the same way (RTLocalIpcServerCancel; sticky, as in IPRT:
// a cancelled server is good only for Close). Sessions already accepted are
// not affected. A Serve server, which has no AcceptSession to wake, stops
// accepting: its loop closes the listening socket and removes the name
// first, since a socket file left behind would be stale, and Close, which
// would remove it later, could by then meet a new server's file under our
// inode number. A nil or closed server gives ErrClosed.
func (s *Server) Cancel() error {
	if s == nil || s.closed.Load() {
		return ErrClosed
	}
	s.cancel()
	return nil
}

func (s *Server) cancel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The flag before the deadline: the woken accept must find it set.
	s.cancelled.Store(true)
	if s.ev != nil {
		s.ev.stop()
		return
	}
	s.endpoint.interrupt()
}

// Close cancels the server, removes its socket file (only if it is still the
// one this server bound) and closes the socket (RTLocalIpcServerDestroy). A
// pending AcceptSession returns ErrCancelled; sessions already accepted keep
// working. Closing a nil server does nothing; a second Close returns
// ErrClosed.
//
// Any goroutine, a Serve handler's too. On a reactor loop Close waits for no
// other loop: a loop must not block, and two loops closing each other's
// servers would wait for each other for ever. So a Serve server closed from
// a loop other than its listener's has, when Close returns, its name removed
// (a Windows pipe name lasts while sessions of it do, and a client finds it
// busy) and accepts no client any more; but its listening socket closes when
// that loop next runs, and a client accepted just before may still reach
// OnOpen afterwards. From any other goroutine, or from the listener's own
// loop, the socket is closed when Close returns. Shutdown, which waits,
// cannot run on a loop.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	s.cancel()
	if s.ev != nil {
		// The loop's closeListener may have removed the name already (for
		// Cancel, or the reactor's Shutdown) and closed the socket: then the
		// file there is not ours even if its inode number says so.
		err := s.ev.release()
		if !reactor.OnAnyLoop() {
			// On its own loop cancel has closed it already; on another
			// loop waiting could deadlock (see above).
			s.ev.waitStopped()
		}
		return err
	}
	err := s.endpoint.release() // before the close: see endpoint.release
	if cerr := s.endpoint.close(); err == nil {
		err = cerr
	}
	return err
}

// Addr returns the socket path (net.Listener). A closed
// server keeps its address, as a closed net.UnixListener does. A nil server
// has none and returns nil, as a nil Session's LocalAddr does.
func (s *Server) Addr() net.Addr {
	if s == nil {
		return nil
	}
	return s.addr
}

// SetAccessMode sets the socket file's permission bits to mode & 0777
// (RTLocalIpcServerSetAccessMode). Clients already connected are not
// affected. WithAccessMode does the same before the first client can connect.
// If the path no longer holds this server's socket (removed, or replaced by
// another file or server) nothing is changed and the error matches
// ErrNotFound.
func (s *Server) SetAccessMode(mode os.FileMode) error {
	if s == nil || s.closed.Load() {
		return ErrClosed
	}
	return s.endpoint.chmod(mode & os.ModePerm)
}

// GrantGroupAccess gives group gid read and write access to the socket and
// removes everyone else's: chown to the group, then mode 0660
// (RTLocalIpcServerGrantGroupAccess). WithGroupAccess does the same before
// the first client can connect.
func (s *Server) GrantGroupAccess(gid int) error {
	if s == nil || s.closed.Load() {
		return ErrClosed
	}
	if err := s.endpoint.chown(gid); err != nil {
		return err
	}
	return s.SetAccessMode(0o660)
}

var _ net.Listener = (*Server)(nil)
