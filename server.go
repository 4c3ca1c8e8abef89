package localipc

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/sock"
)

// Session is one end of a connection: RTLocalIpcSession, and a net.Conn.
type Session = session.Session

// Server is a listening endpoint: RTLocalIpcServer, and a net.Listener.
// Any goroutine may call any method.
type Server struct {
	f     *os.File        // the listening socket, parked on by AcceptSession; nil for Serve
	rc    syscall.RawConn // accepts go through it, holding f's fd reference
	ev    *acceptor       // Serve's listener on a reactor loop; nil for Listen
	path  string
	ino   uint64 // of the socket file we bound: Close removes only that file
	addr  *net.UnixAddr
	addrs *session.Addrs // what every accepted session reports

	peerCheck func(pid, uid, gid int) error

	// mu serializes the cancels of Cancel and Close, which both move the
	// listener's read deadline (or stop Serve's acceptor).
	mu        sync.Mutex
	cancelled atomic.Bool // sticky
	closed    atomic.Bool
}

var pastDeadline = time.Unix(1, 0)

// Listen creates a server on name (RTLocalIpcServerCreate). The name is
// checked and mapped as IPRT does (see Path). A stale socket file left by a
// dead server is replaced; a live server's name gives ErrAddressInUse, and a
// file of any other kind at the path is never removed. With RestrictToUser
// the socket is mode 0600; WithAccessMode and WithGroupAccess set the mode and
// group before any client can connect.
func Listen(name string, flags Flags, opts ...Option) (*Server, error) {
	o := collectOptions(opts)
	path, fd, ino, err := listenFD(name, flags, &o)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetReadDeadline(time.Time{}) // fails if the runtime poller refused it
	}
	if err != nil {
		sock.Unlink(path, ino)
		f.Close()
		return nil, err
	}
	return newServer(path, ino, o.peerCheck, f, rc), nil
}

// unnamed is the address of a client's end: Unix clients do not bind.
var unnamed = &net.UnixAddr{Net: "unix"}

func newServer(path string, ino uint64, peerCheck func(pid, uid, gid int) error, f *os.File, rc syscall.RawConn) *Server {
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	return &Server{f: f, rc: rc, path: path, ino: ino, addr: addr, addrs: &session.Addrs{Local: addr, Remote: unnamed}, peerCheck: peerCheck}
}

// listenFD resolves name and makes the listening socket, with the mode and
// group the flags and options ask for in force before listen(2).
func listenFD(name string, flags Flags, o *options) (path string, fd int, ino uint64, err error) {
	if path, err = resolveName(name, flags, true); err != nil {
		return "", -1, 0, err
	}
	cfg := sock.ListenConfig{Mode: o.mode, Group: o.group}
	if flags&RestrictToUser != 0 && cfg.Mode == 0 {
		cfg.Mode = 0o600
	}
	fd, ino, err = sock.Listen(path, cfg)
	return path, fd, ino, err
}

// admit applies the peer check to an accepted descriptor: false means the
// client was refused and fd is closed.
func admit(fd int, check func(pid, uid, gid int) error) bool {
	if check == nil {
		return true
	}
	cred, err := sock.PeerCred(fd)
	if err == nil {
		err = check(cred.PID, cred.UID, cred.GID)
	}
	if err != nil {
		sock.Close(fd)
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
		nfd, err := s.acceptFD()
		if err != nil {
			return nil, err
		}
		if admit(nfd, s.peerCheck) {
			return session.New(uintptr(nfd), s.addrs)
		}
	}
}

// acceptFD waits for one client connection.
func (s *Server) acceptFD() (int, error) {
	nfd := -1
	var aerr error
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			nfd, aerr = sock.Accept(int(fd))
			switch aerr {
			case syscall.EINTR, syscall.ECONNABORTED:
				continue // a client that came and went is not our error
			case syscall.EAGAIN:
				return false
			}
			return true
		}
	})
	if err != nil {
		if s.cancelled.Load() {
			return -1, ErrCancelled
		}
		return -1, ErrClosed
	}
	if aerr != nil {
		// EMFILE and ENFILE come back to the caller (Status maps them to
		// VERR_TOO_MANY_OPEN_FILES) instead of being retried here: only the
		// caller can free descriptors, and a retry loop would spin.
		return -1, ipcerr.OSError("accept", s.path, aerr)
	}
	return nfd, nil
}

// Accept is AcceptSession for net.Listener: after Close it returns an error
// matching net.ErrClosed, which net/http's Serve takes as the end.
func (s *Server) Accept() (net.Conn, error) {
	c, err := s.AcceptSession()
	if err != nil {
		if s.closed.Load() && errors.Is(err, ErrCancelled) {
			err = ErrClosed
		}
		return nil, err
	}
	return c, nil
}

// Cancel wakes a pending AcceptSession with ErrCancelled, and makes every
// later one fail the same way (RTLocalIpcServerCancel; sticky, as in IPRT:
// a cancelled server is good only for Close). Sessions already accepted are
// not affected. A nil or closed server gives ErrClosed.
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
	s.f.SetReadDeadline(pastDeadline)
}

// Close cancels the server, removes its socket file (only if it is still the
// one this server bound) and closes the socket (RTLocalIpcServerDestroy). A
// pending AcceptSession returns ErrCancelled; sessions already accepted keep
// working. Closing a nil server does nothing; a second Close returns
// ErrClosed.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	s.cancel()
	// Unlink before closing: once the fd is gone a new server may take the
	// name, and the inode check is what keeps us off its file.
	err := sock.Unlink(s.path, s.ino)
	if s.ev != nil {
		s.ev.waitStopped() // at once on the loop: cancel closed it there
		return err
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Addr returns the socket path (net.Listener).
func (s *Server) Addr() net.Addr { return s.addr }

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
	return sock.Chmod(s.path, s.ino, mode&os.ModePerm)
}

// GrantGroupAccess gives group gid read and write access to the socket and
// removes everyone else's: chown to the group, then mode 0660
// (RTLocalIpcServerGrantGroupAccess). WithGroupAccess does the same before
// the first client can connect.
func (s *Server) GrantGroupAccess(gid int) error {
	if s == nil || s.closed.Load() {
		return ErrClosed
	}
	if err := sock.Chown(s.path, s.ino, gid); err != nil {
		return err
	}
	return s.SetAccessMode(0o660)
}

var _ net.Listener = (*Server)(nil)
