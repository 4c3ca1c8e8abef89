// Package session is one localipc connection: its descriptor, its reference
// count, its sticky cancel, its deadlines and the blocking calls of IPRT's
// RTLocalIpcSession API. The facade (package localipc) re-exports Session.
//
// A blocking call tries its system call at once from the caller's goroutine
// and, only on EAGAIN, parks on Go's runtime poller for the session's own
// descriptor, the way net.Conn does. BenchmarkWake in reactor/ measured the
// alternatives: a goroutine woken by a reactor loop pays a second goroutine
// switch per wake-up (10-14 µs against 8.7 µs a 64-byte round trip on this
// machine's 2 cores), so the blocking face parks where net parks and the
// reactor loops serve the callback face. docs/design.md has the numbers.
package session

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
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
	*blocking         // the blocking face; nil when callbacks serve the session
	ev        *evConn // the callback face; nil for the blocking face

	addrs *Addrs // shared by every session of a server

	refs        atomic.Int64 // IPRT references; the session is destroyed at 0
	cancelled   atomic.Bool  // sticky
	destroyed   atomic.Bool  // the last reference is gone; closed wins over cancelled
	closeCalled atomic.Bool  // Close was called; it drops its reference once, however often it is called

	value atomic.Pointer[any] // the user's, see SetValue
}

// blocking is the state of a session whose calls block their caller.
type blocking struct {
	f  *os.File        // owns the descriptor; closed when the last reference goes
	rc syscall.RawConn // every system call goes through it, holding f's fd reference

	readMu  sync.Mutex // one reader at a time
	writeMu sync.Mutex // one writer at a time

	// dlMu orders deadline changes against Cancel. Cancel sets the file's
	// deadlines in the past to wake blocked calls; without the lock, a
	// SetReadDeadline racing with it could move the deadline back into the
	// future and leave a cancelled call asleep.
	dlMu         sync.Mutex
	readDeadline time.Time // the user's, restored after WaitForData
	waitActive   bool      // WaitForData holds the file's read deadline

	// Per-call state of the one reader and the one writer, kept here so that
	// the system call closures are made once, not per call.
	rbuf    []byte
	rn      int
	rerr    error
	readFn  func(fd uintptr) bool
	wbuf    []byte
	wn      int
	werr    error
	writeFn func(fd uintptr) bool
}

// Addrs are a session's two ends, as net.Conn reports them. A server hands
// the same Addrs to all its sessions: they never change.
type Addrs struct {
	Local, Remote net.Addr
}

// New makes a session of a connected, non-blocking, close-on-exec socket.
// The session owns fd from then on, also when New fails.
func New(fd uintptr, addrs *Addrs) (*Session, error) {
	f := os.NewFile(fd, "localipc")
	rc, err := f.SyscallConn()
	if err == nil {
		// A descriptor the runtime poller refused has no deadlines, and a
		// blocking call on it could not be cancelled.
		err = f.SetDeadline(time.Time{})
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &Session{blocking: &blocking{f: f, rc: rc}, addrs: addrs}
	s.refs.Store(1)
	s.readFn = s.readOnce
	s.writeFn = s.writeOnce
	return s, nil
}

// pastDeadline is far enough in the past to be in the past for any clock.
var pastDeadline = time.Unix(1, 0)

// check is the entry test of every call but Close, Retain, Release and
// Flush: closed wins over cancelled.
func (s *Session) check() error {
	if s == nil || s.destroyed.Load() {
		return ipcerr.ErrClosed
	}
	if s.cancelled.Load() {
		return ipcerr.ErrCancelled
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

// checkRead is check for the reading calls, which a session served by
// callbacks does not have: its handler receives the data.
func (s *Session) checkRead() error {
	if err := s.check(); err != nil {
		return err
	}
	if s.ev != nil {
		return errCallbackReads
	}
	return nil
}

// pollError turns what the runtime poller reported for a call into the
// session's errors: a call woken by Cancel reports ErrCancelled, one woken by
// the last Release ErrClosed, one whose deadline passed
// os.ErrDeadlineExceeded inside a net.OpError, as net does, so that net.Error
// and Timeout() work.
func (s *Session) pollError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case s.closeCalled.Load():
		return errCancelledByClose
	case s.cancelled.Load():
		return ipcerr.ErrCancelled
	case s.destroyed.Load():
		return ipcerr.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &net.OpError{Op: op, Net: "unix", Source: s.addrs.Local, Addr: s.addrs.Remote, Err: os.ErrDeadlineExceeded}
	}
	return &net.OpError{Op: op, Net: "unix", Source: s.addrs.Local, Addr: s.addrs.Remote, Err: err}
}

// sysError turns a system call's errno into the session's errors: a peer
// that is gone is ErrBrokenPipe, with the errno still reachable.
func (s *Session) sysError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return ipcerr.OSError(op, addrString(s.addrs.Remote, s.addrs.Local), err)
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

func (s *Session) readOnce(fd uintptr) bool {
	n, err := sysRead(fd, s.rbuf)
	if err == syscall.EAGAIN {
		return false
	}
	if err == syscall.EINTR {
		return s.readOnce(fd)
	}
	s.rn, s.rerr = max(n, 0), err
	return true
}

// read makes one read of at least one byte, parking until the socket is
// readable. Caller holds readMu.
func (s *Session) read(p []byte) (int, error) {
	s.rbuf = p
	err := s.rc.Read(s.readFn)
	n, rerr := s.rn, s.rerr
	s.rbuf, s.rn, s.rerr = nil, 0, nil
	if err != nil {
		return 0, s.pollError("read", err)
	}
	if rerr != nil {
		return 0, s.sysError("read", rerr)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Read reads at least one byte into p, blocking until there is one
// (RTLocalIpcSessionRead with pcbRead). It returns io.EOF once the peer has
// closed or shut down its writing side and every byte sent before has been
// read. A zero-length p returns (0, nil) at once.
// Any goroutine; readers queue.
func (s *Session) Read(p []byte) (int, error) {
	if err := s.checkRead(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	return s.read(p)
}

// ReadFull fills p exactly, blocking as long as it takes
// (RTLocalIpcSessionRead without pcbRead). It returns io.EOF if the stream
// ended before the first byte and io.ErrUnexpectedEOF if it ended in the
// middle; holding the reader's turn throughout, no other reader's bytes
// interleave. Any goroutine; readers queue.
func (s *Session) ReadFull(p []byte) error {
	if err := s.checkRead(); err != nil {
		return err
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for got := 0; got < len(p); {
		n, err := s.read(p[got:])
		got += n
		if err == io.EOF && got > 0 {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ReadNB reads what is there without waiting (RTLocalIpcSessionReadNB):
// (0, ErrTryAgain) when nothing is, or when another reader holds the turn;
// io.EOF at the end of the stream. Any goroutine.
func (s *Session) ReadNB(p []byte) (int, error) {
	if err := s.checkRead(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !s.readMu.TryLock() {
		return 0, ipcerr.ErrTryAgain
	}
	defer s.readMu.Unlock()
	var n int
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = sysRead(fd, p)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, s.pollError("read", err)
	case rerr == syscall.EAGAIN:
		return 0, ipcerr.ErrTryAgain
	case rerr != nil:
		return 0, s.sysError("read", rerr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (s *Session) writeOnce(fd uintptr) bool {
	for s.wn < len(s.wbuf) {
		n, err := sock.Send(int(fd), s.wbuf[s.wn:])
		switch err {
		case nil:
			s.wn += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			s.werr = err
			return true
		}
	}
	return true
}

// Write writes all of p or returns an error saying why not, with the count
// of bytes that did go (RTLocalIpcSessionWrite). A peer that is gone is
// ErrBrokenPipe, never a SIGPIPE. Any goroutine; writers queue.
func (s *Session) Write(p []byte) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.ev != nil {
		return s.ev.write(p)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.wbuf, s.wn, s.werr = p, 0, nil
	err := s.rc.Write(s.writeFn)
	n, werr := s.wn, s.werr
	s.wbuf, s.wn, s.werr = nil, 0, nil
	if err != nil {
		return n, s.pollError("write", err)
	}
	return n, s.sysError("write", werr)
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

// WaitForData waits until a read would not block, at most timeout
// (RTLocalIpcSessionWaitForData): nil when there are bytes to read, also
// after the peer hung up if they were sent before; ErrBrokenPipe once the
// peer is gone and nothing is left; ErrTimeout when timeout passes, at once
// for 0; Infinite (or any negative timeout) waits without limit. It consumes
// nothing. Cancel wakes it with ErrCancelled. Any goroutine; it takes the
// reader's turn.
func (s *Session) WaitForData(timeout time.Duration) error {
	if err := s.checkRead(); err != nil {
		return err
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if timeout != 0 {
		var deadline time.Time // zero: no limit
		if timeout > 0 {
			deadline = time.Now().Add(timeout)
		}
		if err := s.holdReadDeadline(deadline); err != nil {
			return err
		}
		defer s.releaseReadDeadline()
	}
	var state int // 0 nothing yet, 1 data, 2 end of stream
	var perr error
	// With no wait, the peek goes through Control, which ignores deadlines:
	// WaitForData keeps its own timeout, and a passed read deadline must not
	// hide data that is there.
	rawOp := s.rc.Read
	if timeout == 0 {
		rawOp = func(f func(uintptr) bool) error { return s.rc.Control(func(fd uintptr) { f(fd) }) }
	}
	err := rawOp(func(fd uintptr) bool {
		n, err := sysPeek(fd)
		for err == syscall.EINTR {
			n, err = sysPeek(fd)
		}
		switch {
		case err == syscall.EAGAIN:
			return timeout == 0
		case err != nil:
			perr = err
		case n > 0:
			state = 1
		default:
			state = 2
		}
		return true
	})
	switch {
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !s.cancelled.Load():
		return ipcerr.ErrTimeout
	case err != nil:
		return s.pollError("wait", err)
	case state == 1:
		return nil
	case state == 2:
		return ipcerr.ErrBrokenPipe
	case perr != nil:
		return s.sysError("wait", perr)
	}
	return ipcerr.ErrTimeout // timeout 0 and nothing there
}

// holdReadDeadline gives the file's read deadline to WaitForData until
// releaseReadDeadline; the user's deadline is kept aside meanwhile.
func (s *Session) holdReadDeadline(t time.Time) error {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if s.cancelled.Load() {
		return ipcerr.ErrCancelled
	}
	s.waitActive = true
	return s.pollError("wait", s.f.SetReadDeadline(t))
}

func (s *Session) releaseReadDeadline() {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	s.waitActive = false
	if !s.cancelled.Load() {
		s.f.SetReadDeadline(s.readDeadline)
	}
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
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if s.cancelled.Load() {
		return ipcerr.ErrCancelled
	}
	if read {
		s.readDeadline = t
		if !s.waitActive {
			if err := s.f.SetReadDeadline(t); err != nil {
				return s.pollError("set deadline", err)
			}
		}
	}
	if write {
		if err := s.f.SetWriteDeadline(t); err != nil {
			return s.pollError("set deadline", err)
		}
	}
	return nil
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
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	// The flag first: a call woken by the deadline below must find it set.
	s.cancelled.Store(true)
	s.f.SetDeadline(pastDeadline)
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

// destroy closes the descriptor. os.File.Close wakes every call parked on it
// and closes the fd only after the last one has left its system call, so a
// call in flight can never touch a reused fd number.
func (s *Session) destroy() {
	s.destroyed.Store(true)
	if s.ev != nil {
		s.ev.close()
		return
	}
	s.f.Close()
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
	var serr error
	if err := s.rc.Control(func(fd uintptr) { serr = sysShutdownWrite(fd) }); err != nil {
		return s.pollError("close write", err)
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
// localipc does not wrap (net.Conn's optional interface). Any goroutine.
func (s *Session) SyscallConn() (syscall.RawConn, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if s.ev != nil {
		return nil, fmt.Errorf("%w: the descriptor of a session served by callbacks belongs to its loop", ipcerr.ErrNotSupported)
	}
	return s.rc, nil
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
