//go:build unix

package session

import (
	"math"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// conn is the blocking face's descriptor on Unix: an os.File on Go's runtime
// poller, every system call made from the caller's goroutine, parking only
// on EAGAIN. The runtime arms, re-checks and parks, so no wake-up is lost,
// and its Close waits for calls inside a system call to leave, so none
// touches a reused number. Reads that may park go through f.Read, as net's
// do: a RawConn.Read would touch two more objects a message (the RawConn and
// its callback), which with thousands of sessions are two more cache misses
// (docs/design.md, "The blocking face").
//
// conn holds only what every Read and Write touches: it shares the session's
// first cache line with the turns and the session's flags (see blocking).
// What the rarer calls need is rawCalls'.
type conn struct {
	f *os.File

	// A Write sends on the descriptor's number itself, without RawConn
	// and its callback (two objects more per message than net's Write
	// touches), and parks through RawConn only when the socket is full.
	// The writer's turn then guards the number in os.File's stead:
	// closed is set under it, and a send is made only under it after
	// finding closed unset, so the descriptor closes with no send inside
	// its system call and none after (blocking.close). closed is the
	// writer's turn's; fd is set once, before the session is shared.
	// writeDeadline is atomic because SetWriteDeadline, Cancel and close
	// store it outside the turn.
	writeDeadline atomic.Int64 // the user's, as clockStart's offset (writeDeadlineOf); 0: none; MinInt64 once cancelled or closing
	fd            int32
	closed        bool
}

// rawCalls is the descriptor's RawConn, through which a Write parks when
// the socket is full and ReadNB reads, with the state of such a call kept
// here so that the callbacks are made once, not per call: a call allocates
// nothing.
type rawCalls struct {
	rc syscall.RawConn

	wbuf      []byte // what is left to send
	werr      error
	writeFn   func(fd uintptr) bool
	rbuf      []byte
	rn        int
	rerr      error
	readNowFn func(fd uintptr) bool // never parks
}

// testHookSend, set by a test, runs in a direct send's guarded section (in
// the writer's turn, closed found unset), just before the system call.
var testHookSend func()

func (b *blocking) initConn(fd uintptr) error {
	f, rc, err := sock.OpenPolled(fd, "localipc")
	if err != nil {
		return err
	}
	b.conn.f, b.conn.fd, b.rawCalls.rc = f, int32(fd), rc
	b.readNowFn = b.rawCalls.readNowOnce
	b.writeFn = b.rawCalls.writeOnce
	return nil
}

func (r *rawCalls) readNowOnce(fd uintptr) bool {
	n, err := sock.Read(int(fd), r.rbuf)
	r.rn, r.rerr = max(n, 0), err
	return true
}

// readNow makes one read without waiting: errWouldBlock when nothing is
// there.
func (b *blocking) readNow(p []byte) (n int, perr, serr error) {
	r := &b.rawCalls
	r.rbuf = p
	perr = r.rc.Read(r.readNowFn)
	n, serr = r.rn, r.rerr
	r.rbuf, r.rn, r.rerr = nil, 0, nil
	if serr == unix.EAGAIN {
		serr = errWouldBlock
	}
	return n, perr, serr
}

func (r *rawCalls) writeOnce(fd uintptr) bool {
	n, err := sock.SendAll(int(fd), r.wbuf)
	r.wbuf = r.wbuf[n:]
	if err == unix.EAGAIN {
		return false
	}
	r.werr = err
	return true
}

// send sends all of p, parking while the socket is full; n is what went.
// Caller holds the writer's turn.
func (b *blocking) send(p []byte) (n int, perr, serr error) {
	c := &b.conn
	if c.closed {
		return 0, os.ErrClosed, nil
	}
	// As net's Write, a deadline that has passed fails the call even when
	// the socket has room.
	if d := c.writeDeadline.Load(); d != 0 && time.Since(clockStart) >= time.Duration(d) {
		return 0, os.ErrDeadlineExceeded, nil
	}
	if testHookSend != nil {
		testHookSend()
	}
	releaseIO()
	n, serr = sock.SendAll(int(c.fd), p)
	if serr != unix.EAGAIN {
		return n, nil, serr
	}
	r := &b.rawCalls
	r.wbuf, r.werr = p[n:], nil
	perr = r.rc.Write(r.writeFn)
	n, serr = len(p)-len(r.wbuf), r.werr
	r.wbuf, r.werr = nil, nil
	return n, perr, serr
}

func (c *conn) setReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

func (c *conn) setWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(writeDeadlineOf(t))
	return c.f.SetWriteDeadline(t)
}

// clockStart is the origin of conn.writeDeadline, which is kept as an int64
// offset from it so that SetWriteDeadline allocates nothing.
var clockStart = time.Now()

// writeDeadlineOf is t as conn.writeDeadline keeps it: 0 for none, so a
// deadline that falls on clockStart itself is kept a nanosecond earlier.
// It is measured as the runtime measures its deadlines, from now by
// time.Until, so that a t without a monotonic reading is not judged by a
// wall clock that moved since clockStart.
func writeDeadlineOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	since, until := time.Since(clockStart), time.Until(t)
	if until > math.MaxInt64-since {
		return math.MaxInt64 // beyond any clock, as the runtime clamps it
	}
	if d := int64(since + until); d != 0 {
		return d
	}
	return -1
}

// interrupt wakes every call parked on the descriptor (see Interrupt), and
// moves the direct send's deadline into the past too: a Write queued for
// the writer's turn has passed its check of the sticky flag already, and
// without it would send once the socket has room.
func (c *conn) interrupt() {
	c.writeDeadline.Store(math.MinInt64)
	Interrupt(c.f)
}

func (r *rawCalls) closeWrite() (perr, serr error) {
	perr = r.rc.Control(func(fd uintptr) { serr = sock.ShutdownWrite(int(fd)) })
	return perr, serr
}

// peerCred asks the kernel for the credentials it recorded for the peer.
func (r *rawCalls) peerCred() (cred sock.Cred, perr, serr error) {
	perr = r.rc.Control(func(fd uintptr) { cred, serr = sock.PeerCred(int(fd)) })
	return cred, perr, serr
}

func (r *rawCalls) rawConn() syscall.RawConn { return r.rc }

// close closes the descriptor once no Write is inside its direct send;
// parked calls wake with an error. It moves the write deadline into the past
// first, which wakes a Write parked for room and fails those queued for the
// writer's turn, so that the turn it then takes comes at once, held at most
// for one send, which is short: the descriptor is non-blocking, so SendAll
// returns once the socket is full. (One made blocking through SyscallConn
// would keep close waiting for its send, as it would make any Write block a
// thread.) The caller has set destroyed, so no deadline moves back after
// this one (setDeadline checks it under dlMu): a Write parked with a
// deadline in the future would hold the turn, and close with it, as long
// as the peer does not read.
func (b *blocking) close() error {
	b.dlMu.Lock()
	b.conn.writeDeadline.Store(math.MinInt64)
	b.conn.f.SetWriteDeadline(pastDeadline)
	b.dlMu.Unlock()
	b.writeMu.Lock()
	b.conn.closed = true
	b.writeMu.Unlock()
	return b.conn.f.Close()
}
