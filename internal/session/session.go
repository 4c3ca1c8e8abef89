// Package session is one localipc connection: its reference count, its
// sticky cancel, its deadlines, and the two faces that serve it: the
// blocking calls of IPRT's RTLocalIpcSession API, and callbacks on a reactor
// loop (Handler). The facade (package localipc) re-exports Session.
//
// Each face is written twice over: its state and its rules in files without
// an OS suffix (session.go, blocking.go, callback.go, outqueue.go), and its
// I/O verbs, whole, in files named for the system (blocking_unix.go,
// callback_unix.go), the way Go's internal/poll keeps fd_unix.go beside
// fd_mutex.go. A port adds files beside the _unix.go ones and edits none of
// the shared ones, so the Linux tests cover every rule the port runs.
//
// A blocking call tries its system call at once from the caller's goroutine
// and, only when the kernel has nothing, parks on Go's runtime poller for
// the session's own descriptor, the way net.Conn does. BenchmarkWake in
// reactor/ measured the alternatives: a goroutine woken by a reactor loop
// pays a second goroutine switch per wake-up, so the blocking face parks
// where net parks and the reactor loops serve the callback face.
// docs/design.md has the numbers.
package session

import (
	"errors"
	"math"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
)

// Session is one end of a local IPC connection: RTLocalIpcSession in IPRT
// terms, and a net.Conn.
//
// Any goroutine may call any method. One reader (Read, ReadFull, ReadNB,
// WaitForData) and one writer (Write) may work at the same time; further
// readers, or writers, queue behind them, as in Go's net package, except
// ReadNB, which never waits: it reports ErrTryAgain while another reader is
// busy.
type Session struct {
	// What every Read and Write of the blocking face reads of the session
	// first: they close the line that the blocking state's fields open
	// (see blocking). The face is told by blocking, not ev, for the same
	// reason.
	*blocking             // the blocking face; nil when callbacks serve the session
	cancelled atomic.Bool // sticky
	destroyed atomic.Bool // the last reference is gone; closed wins over cancelled

	ev *evConn // the callback face; nil for the blocking face

	addrs *Addrs // shared by every session of a server

	refs        atomic.Int64 // IPRT references; the session is destroyed at 0
	closeCalled atomic.Bool  // Close was called; it drops its reference once, however often it is called

	value atomic.Pointer[any] // the user's, see SetValue
}

// Addrs are a session's two ends, as net.Conn reports them. A server hands
// the same Addrs to all its sessions: they never change.
type Addrs struct {
	Local, Remote net.Addr
}

// errWouldBlock is what an I/O verb reports when the kernel has nothing to
// give or no room to take (EAGAIN on Unix): the face then parks, queues or
// waits for the next event.
var errWouldBlock = errors.New("localipc: operation would block")

// check is the entry test of every call but Close, Retain, Release and
// Flush: closed wins over cancelled.
func (s *Session) check() error {
	if s == nil || s.destroyed.Load() {
		return ipcerr.ErrClosed
	}
	if s.cancelled.Load() {
		return s.cancelError()
	}
	return nil
}

// errCancelledByClose is what a call blocked when Close came returns: IPRT's
// VERR_CANCELLED for IPRT code (Status checks ErrCancelled first), and
// net.ErrClosed for net.Conn code, which expects it after Close.
var errCancelledByClose error = cancelledByClose{}

type cancelledByClose struct{}

func (cancelledByClose) Error() string {
	return "use of closed network connection (cancelled by Close)"
}
func (cancelledByClose) Unwrap() []error { return []error{ipcerr.ErrCancelled, ipcerr.ErrClosed} }

// cancelError is what a call that finds the session cancelled returns:
// errCancelledByClose if Close did it.
func (s *Session) cancelError() error {
	if s.closeCalled.Load() {
		return errCancelledByClose
	}
	return ipcerr.ErrCancelled
}

// sysError turns what a system call reported into the session's errors: a
// peer that is gone is ErrBrokenPipe (ipcerr knows which errors of each
// system mean that), with the system's error still reachable; anything else
// is a net.OpError, as net reports it.
func (s *Session) sysError(op string, err error) error {
	if err == nil {
		return nil
	}
	if e := ipcerr.OSError(op, addrString(s.addrs.Remote, s.addrs.Local), err); errors.Is(e, ipcerr.ErrBrokenPipe) {
		return e
	}
	return &net.OpError{Op: op, Net: "unix", Source: s.addrs.Local, Addr: s.addrs.Remote, Err: os.NewSyscallError(op, err)}
}

func addrString(addrs ...net.Addr) string {
	for _, a := range addrs {
		if a != nil && a.String() != "" {
			return a.String()
		}
	}
	return "(unnamed)"
}

// Write writes all of p or returns an error saying why not, with the count
// of bytes that did go (RTLocalIpcSessionWrite). A peer that is gone is
// ErrBrokenPipe, never a SIGPIPE. Any goroutine; writers queue. A session
// served by callbacks queues what the kernel does not take at once: there a
// Write from a reactor loop never waits, and one that would take the queue
// past four times Limits.HighWater returns (0, ErrTryAgain) with nothing of
// p sent or queued, so all of p may be offered again (one larger than the
// cap itself never fits: write it from a goroutine, or raise the
// watermarks); a Write from any other goroutine waits while the queue is at
// HighWater.
func (s *Session) Write(p []byte) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.blocking != nil {
		return s.write(p)
	}
	return s.ev.write(p)
}

// Flush returns once what Write accepted is in the kernel
// (RTLocalIpcSessionFlush). A blocking Write returns only then, so there is
// nothing left to wait for; like IPRT's, Flush is not affected by Cancel.
// Any goroutine.
func (s *Session) Flush() error {
	if s == nil || s.destroyed.Load() {
		return ipcerr.ErrClosed
	}
	if s.ev != nil {
		return s.ev.flushWait()
	}
	return nil
}

// SetDeadline sets the read and write deadlines (net.Conn). A call blocked
// past its deadline returns an error matching os.ErrDeadlineExceeded that is
// a net.Error with Timeout() true. Any goroutine.
func (s *Session) SetDeadline(t time.Time) error {
	return s.setDeadline(t, true, true)
}

// SetReadDeadline sets the deadline of Read, ReadFull and ReadNB (net.Conn);
// WaitForData keeps its own timeout. Any goroutine.
func (s *Session) SetReadDeadline(t time.Time) error { return s.setDeadline(t, true, false) }

// SetWriteDeadline sets the deadline of Write (net.Conn). Any goroutine.
func (s *Session) SetWriteDeadline(t time.Time) error { return s.setDeadline(t, false, true) }

func (s *Session) setDeadline(t time.Time, read, write bool) error {
	if err := s.check(); err != nil {
		return err
	}
	if s.ev != nil {
		return s.ev.setDeadline(t, read, write)
	}
	return s.blocking.setDeadline(s, t, read, write)
}

// Cancel makes every blocked and every later call of the session return
// ErrCancelled, even with data waiting, except Close, Release, Retain and
// Flush (RTLocalIpcSessionCancel). It is sticky: the session is then good
// only for closing. Any goroutine.
func (s *Session) Cancel() error {
	if s == nil || s.destroyed.Load() {
		return ipcerr.ErrClosed
	}
	if s.ev != nil {
		s.cancelled.Store(true)
		s.ev.cancel()
		return nil
	}
	s.blocking.cancel(s)
	return nil
}

// Close cancels the session and drops the caller's reference
// (RTLocalIpcSessionClose); the descriptor is closed when the last reference
// goes. Closing a nil session does nothing; a second Close returns ErrClosed
// and drops nothing. Any goroutine.
func (s *Session) Close() error {
	if s == nil {
		return nil
	}
	if s.destroyed.Load() || !s.closeCalled.CompareAndSwap(false, true) {
		return ipcerr.ErrClosed
	}
	s.Cancel()
	s.Release()
	return nil
}

// Retain adds a reference and returns the new count
// (RTLocalIpcSessionRetain); math.MaxUint32 for a nil or destroyed session,
// as IPRT returns UINT32_MAX for an invalid handle. Any goroutine.
func (s *Session) Retain() uint32 {
	if s == nil || s.destroyed.Load() {
		return math.MaxUint32
	}
	for {
		n := s.refs.Load()
		if n <= 0 {
			return math.MaxUint32 // never resurrect a destroyed session
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return uint32(n + 1)
		}
	}
}

// Release drops a reference and returns the new count; at 0 the session is
// destroyed, without cancelling first: blocked calls return ErrClosed
// (RTLocalIpcSessionRelease). 0 for a nil session, math.MaxUint32 for one
// already destroyed. Any goroutine.
func (s *Session) Release() uint32 {
	if s == nil {
		return 0
	}
	for {
		n := s.refs.Load()
		if n <= 0 {
			return math.MaxUint32
		}
		if s.refs.CompareAndSwap(n, n-1) {
			if n == 1 {
				s.destroy()
			}
			return uint32(n - 1)
		}
	}
}

// destroy closes the descriptor, by the face's own rule: the blocking face
// closes it once no call is inside a system call on it, the callback face
// on its loop after OnClose.
func (s *Session) destroy() {
	s.destroyed.Store(true)
	if s.ev != nil {
		s.ev.close()
		return
	}
	s.blocking.close()
}

// CloseWrite shuts down the writing side: the peer reads the end of the
// stream once it has read what was sent, and can still send (net.UnixConn's
// CloseWrite; IPRT has no half-close, and an IPRT peer sees the end of the
// stream as VERR_BROKEN_PIPE). Any goroutine.
func (s *Session) CloseWrite() error {
	if err := s.check(); err != nil {
		return err
	}
	if s.ev != nil {
		return s.ev.shutdownWrite()
	}
	perr, serr := s.rawCalls.closeWrite()
	if perr != nil {
		return s.pollError("close write", perr)
	}
	return s.sysError("close write", serr)
}

// LocalAddr returns the socket path of the server end (net.Conn).
func (s *Session) LocalAddr() net.Addr {
	if s == nil {
		return nil
	}
	return s.addrs.Local
}

// RemoteAddr returns the socket path on the client end (net.Conn).
func (s *Session) RemoteAddr() net.Addr {
	if s == nil {
		return nil
	}
	return s.addrs.Remote
}

// SyscallConn gives raw access to the descriptor, for socket options that
// localipc does not wrap (net.Conn's optional interface). Reading through it
// bypasses the session: bytes that WaitForData has read ahead are given out
// by the session's own reading calls only. Any goroutine.
func (s *Session) SyscallConn() (syscall.RawConn, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if s.ev != nil {
		return nil, errCallbackRawConn
	}
	return s.rawCalls.rawConn(), nil
}

// SetValue attaches v to the session, for handlers that keep per-session
// state without a map of their own. Any goroutine.
func (s *Session) SetValue(v any) {
	if s != nil {
		s.value.Store(&v)
	}
}

// Value returns what SetValue attached, or nil. Any goroutine.
func (s *Session) Value() any {
	if s == nil {
		return nil
	}
	if p := s.value.Load(); p != nil {
		return *p
	}
	return nil
}

var _ net.Conn = (*Session)(nil)
