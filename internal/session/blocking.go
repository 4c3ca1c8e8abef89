package session

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
)

// blocking is the state of a session whose calls block their caller: the
// turns of the one reader and the one writer, and the deadline bookkeeping
// that Cancel and WaitForData share with the user's deadlines. Its I/O verbs
// (initConn, readNow, send, and conn's and rawCalls') are in one file per
// system (blocking_unix.go).
type blocking struct {
	// What a message touches of the session, in one cache line: the
	// turns, the descriptor's fields (conn), the stash's bounds and then
	// the session's own first fields (s, whose flags and face are first).
	// With thousands of sessions each message finds its session cold in
	// the cache, after the park of the Read that it answers, and each line
	// it touches costs a miss; net's Read and Write touch one line of
	// their own besides the descriptor's (layout_linux_amd64_test.go).
	readMu  sync.Mutex // one reader at a time
	writeMu sync.Mutex // one writer at a time
	conn
	// stash[stashFrom:stashTo] is what WaitForData read ahead and no
	// reading call has given out yet. Reader's turn only.
	stashFrom, stashTo uint16

	s Session // the session of this state; New returns &s

	rawCalls

	// dlMu orders deadline changes against Cancel. Cancel sets the
	// descriptor's deadlines in the past to wake blocked calls; without the
	// lock, a SetReadDeadline racing with it could move the deadline back
	// into the future and leave a cancelled call asleep.
	dlMu         sync.Mutex
	readDeadline time.Time // the user's, restored after WaitForData
	waitActive   bool      // WaitForData holds the read deadline
	heldDeadline time.Time // the descriptor's read deadline while it does

	// stash keeps what WaitForData read to learn that data had come, and
	// the reading calls give it out before they read again, so that
	// WaitForData consumes nothing as the API sees it and costs one read,
	// not a peek and then the read. It is made by the first WaitForData,
	// so sessions that never wait carry none. Reader's turn only.
	stash *[stashSize]byte
}

// stashSize bounds what WaitForData reads ahead, and fits in stashTo's
// uint16. It need not hold a whole message: a reader takes the rest from the
// kernel, and the read that found the data replaces the peek that would
// otherwise have asked for it.
const stashSize = 1024

// A stash of 64 KiB or more would wrap stashTo to 0 on a full read and lose
// what it holds; this fails the build instead.
const _ uint16 = stashSize

// New makes a session of a connected, non-blocking, close-on-exec socket
// (on Windows, an overlapped pipe handle) whose calls block their caller.
// The session owns fd from then on, also when New fails.
func New(fd uintptr, addrs *Addrs) (*Session, error) {
	// One allocation, the session inside its blocking state, so that the
	// fields of a message share a line (see blocking): at 289 to 320 bytes
	// on linux/amd64 it is in the size class of 320, whose objects start
	// on line boundaries; those of 288 and of 352 do not.
	b := &blocking{}
	s := &b.s
	s.blocking, s.addrs = b, addrs
	if err := b.initConn(fd); err != nil {
		return nil, err
	}
	s.refs.Store(1)
	return s, nil
}

// pastDeadline is far enough in the past to be in the past for any clock.
var pastDeadline = time.Unix(1, 0)

// Interrupt wakes every call parked on f, by moving its deadlines into the
// past; the caller sets its sticky flag first, so that the woken call finds
// it. Server.Cancel does this to a listener as Cancel does to a session.
func Interrupt(f interface{ SetDeadline(time.Time) error }) error {
	return f.SetDeadline(pastDeadline)
}

// checkRead is check for the reading calls, which a session served by
// callbacks does not have: its handler receives the data.
func (s *Session) checkRead() error {
	if err := s.check(); err != nil {
		return err
	}
	if s.blocking == nil {
		return errCallbackReads
	}
	return nil
}

// split tells what os.File reported apart: the poller's error (a deadline,
// the file closed) and the system call's (the errno, or the Win32 code).
// The end of the stream is neither: a read then found 0 bytes.
func split(err error) (perr, serr error) {
	if err == nil || err == io.EOF {
		return nil, nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err, nil
		}
		return err, nil
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return nil, errno
	}
	return nil, err
}

// read makes one read of at least one byte, parking until there is one;
// io.EOF at the end of the stream (on Windows, os.File reports a pipe's
// ERROR_BROKEN_PIPE so). It is net's path, a Read of the os.File, on every
// system; split tells its errors apart.
func (c *conn) read(p []byte) (int, error) { return c.f.Read(p) }

// pollError turns what the runtime poller reported for a call into the
// session's errors: a call woken by Cancel reports ErrCancelled, one woken by
// the last Release ErrClosed, one whose deadline passed
// os.ErrDeadlineExceeded inside a net.OpError, as net does, so that net.Error
// and Timeout() work.
func (s *Session) pollError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case s.cancelled.Load():
		return s.cancelError()
	case s.destroyed.Load():
		return ipcerr.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &net.OpError{Op: op, Net: "unix", Source: s.addrs.Local, Addr: s.addrs.Remote, Err: os.ErrDeadlineExceeded}
	}
	return &net.OpError{Op: op, Net: "unix", Source: s.addrs.Local, Addr: s.addrs.Remote, Err: err}
}

// fromStash gives out what WaitForData read ahead, as a read of the
// descriptor would: not once the read deadline has passed, as net's Read
// reports the deadline whatever has arrived. Caller holds readMu.
func (s *Session) fromStash(p []byte) (int, error) {
	s.dlMu.Lock()
	deadline := s.readDeadline
	s.dlMu.Unlock()
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return 0, s.pollError("read", os.ErrDeadlineExceeded)
	}
	n := copy(p, s.stash[s.stashFrom:s.stashTo])
	s.stashFrom += uint16(n)
	return n, nil
}

// read makes one read of at least one byte, parking until there is one.
// Caller holds readMu. Its error path is a call of its own and it defers
// nothing, so that a Read, which resumes after the park with a stack gone
// cold among thousands of sessions, returns through few frames and few
// stack lines (docs/design.md, "The blocking face"). It is not inlined
// (the compiler's cost is about three times its budget), so Read returns
// through one frame more than net's.
func (s *Session) read(p []byte) (int, error) {
	if s.stashFrom < s.stashTo {
		return s.fromStash(p)
	}
	n, err := s.conn.read(p)
	if err != nil || n == 0 {
		return 0, s.readError(err)
	}
	return n, nil
}

// readError is the error of a read that returned no bytes.
func (s *Session) readError(err error) error {
	perr, serr := split(err)
	switch {
	case perr != nil:
		return s.pollError("read", perr)
	case serr != nil:
		return s.sysError("read", serr)
	}
	return io.EOF
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
	n, err := s.read(p)
	s.readMu.Unlock()
	return n, err
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
	if s.stashFrom < s.stashTo {
		return s.fromStash(p)
	}
	n, perr, serr := s.blocking.readNow(p)
	switch {
	case perr != nil:
		return 0, s.pollError("read", perr)
	case serr == errWouldBlock:
		return 0, ipcerr.ErrTryAgain
	case serr != nil:
		return 0, s.sysError("read", serr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// write is Write for the blocking face: all of p, parking while the kernel
// has no room.
func (s *Session) write(p []byte) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, perr, serr := s.blocking.send(p)
	if perr != nil {
		return n, s.pollError("write", perr)
	}
	return n, s.sysError("write", serr)
}

// WaitForData waits until a read would not block, at most timeout
// (RTLocalIpcSessionWaitForData): nil when there are bytes to read, also
// after the peer hung up if they were sent before; ErrBrokenPipe once the
// peer is gone and nothing is left; ErrTimeout when timeout passes, at once
// for 0; Infinite (or any negative timeout) waits without limit. It consumes
// nothing: the bytes it reads to find out are the next reads' (see stash).
// Cancel wakes it with ErrCancelled. Any goroutine; it takes the reader's
// turn.
func (s *Session) WaitForData(timeout time.Duration) error {
	if err := s.checkRead(); err != nil {
		return err
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.stashFrom < s.stashTo {
		return nil
	}
	// WaitForData keeps its own timeout, so the user's read deadline steps
	// aside, also for timeout 0: a passed deadline must not hide data that
	// is there. No limit and no deadline of the user's, the IPRT way of
	// serving, costs no deadline change at all.
	var deadline time.Time // zero: no limit
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := s.holdReadDeadline(deadline); err != nil {
		return err
	}
	defer s.releaseReadDeadline()
	if s.stash == nil {
		s.stash = new([stashSize]byte)
	}
	var n int
	var perr, serr error
	if timeout == 0 {
		n, perr, serr = s.blocking.readNow(s.stash[:])
	} else {
		var err error
		n, err = s.conn.read(s.stash[:])
		perr, serr = split(err)
	}
	switch {
	case n > 0:
		s.stashFrom, s.stashTo = 0, uint16(n)
		return nil
	case perr != nil && errors.Is(perr, os.ErrDeadlineExceeded) && !s.cancelled.Load():
		return ipcerr.ErrTimeout
	case perr != nil:
		return s.pollError("wait", perr)
	case serr == errWouldBlock:
		return ipcerr.ErrTimeout // timeout 0 and nothing there
	case serr != nil:
		return s.sysError("wait", serr)
	}
	return ipcerr.ErrBrokenPipe // the end of the stream
}

// holdReadDeadline gives the read deadline to WaitForData until
// releaseReadDeadline; the user's deadline is kept aside meanwhile. The
// descriptor's deadline is the user's until then, so it is changed only if
// t differs from it.
func (s *Session) holdReadDeadline(t time.Time) error {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if s.cancelled.Load() {
		return s.cancelError()
	}
	s.waitActive, s.heldDeadline = true, t
	if t.Equal(s.readDeadline) {
		return nil
	}
	return s.pollError("wait", s.conn.setReadDeadline(t))
}

// releaseReadDeadline gives the read deadline back to the user: the one set
// meanwhile if any, else the one held aside. A cancelled session keeps its
// deadline in the past.
func (s *Session) releaseReadDeadline() {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	s.waitActive = false
	if !s.cancelled.Load() && !s.heldDeadline.Equal(s.readDeadline) {
		s.conn.setReadDeadline(s.readDeadline)
	}
}

// setDeadline keeps the user's read deadline aside while WaitForData holds
// the descriptor's, and refuses to move a cancelled session's deadlines out
// of the past.
func (b *blocking) setDeadline(s *Session, t time.Time, read, write bool) error {
	b.dlMu.Lock()
	defer b.dlMu.Unlock()
	if s.cancelled.Load() {
		return s.cancelError()
	}
	// Checked again under the lock: a deadline moved into the future
	// after close moved it into the past would let a Write park in the
	// writer's turn that close waits for (blocking.close).
	if s.destroyed.Load() {
		return ipcerr.ErrClosed
	}
	if read {
		b.readDeadline = t
		if !b.waitActive {
			if err := b.conn.setReadDeadline(t); err != nil {
				return s.pollError("set deadline", err)
			}
		}
	}
	if write {
		if err := b.conn.setWriteDeadline(t); err != nil {
			return s.pollError("set deadline", err)
		}
	}
	return nil
}

// cancel sets the sticky flag, then wakes every parked call: the woken call
// must find the flag set, so the order matters.
func (b *blocking) cancel(s *Session) {
	b.dlMu.Lock()
	defer b.dlMu.Unlock()
	s.cancelled.Store(true)
	b.conn.interrupt()
}
