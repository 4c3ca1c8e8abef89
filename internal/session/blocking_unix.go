//go:build unix

package session

import (
	"os"
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
type conn struct {
	f  *os.File
	rc syscall.RawConn

	// Per-call state of the one writer and of ReadNB, kept here so that the
	// RawConn callbacks are made once, not per call: a call allocates
	// nothing. Writes go through RawConn for send(2)'s MSG_NOSIGNAL.
	wbuf      []byte
	wn        int
	werr      error
	writeFn   func(fd uintptr) bool
	rbuf      []byte
	rn        int
	rerr      error
	readNowFn func(fd uintptr) bool // never parks
}

func (c *conn) init(fd uintptr) error {
	f, rc, err := sock.OpenPolled(fd, "localipc")
	if err != nil {
		return err
	}
	c.f, c.rc = f, rc
	c.readNowFn = c.readNowOnce
	c.writeFn = c.writeOnce
	return nil
}

func (c *conn) readNowOnce(fd uintptr) bool {
	n, err := sock.Read(int(fd), c.rbuf)
	c.rn, c.rerr = max(n, 0), err
	return true
}

// readNow makes one read without waiting: errWouldBlock when nothing is
// there.
func (c *conn) readNow(p []byte) (n int, perr, serr error) {
	c.rbuf = p
	perr = c.rc.Read(c.readNowFn)
	n, serr = c.rn, c.rerr
	c.rbuf, c.rn, c.rerr = nil, 0, nil
	if serr == unix.EAGAIN {
		serr = errWouldBlock
	}
	return n, perr, serr
}

func (c *conn) writeOnce(fd uintptr) bool {
	n, err := sock.SendAll(int(fd), c.wbuf[c.wn:])
	c.wn += n
	if err == unix.EAGAIN {
		return false
	}
	c.werr = err
	return true
}

// write sends all of p, parking while the socket is full; n is what went.
func (c *conn) write(p []byte) (n int, perr, serr error) {
	c.wbuf, c.wn, c.werr = p, 0, nil
	perr = c.rc.Write(c.writeFn)
	n, serr = c.wn, c.werr
	c.wbuf, c.wn, c.werr = nil, 0, nil
	return n, perr, serr
}

func (c *conn) setReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *conn) setWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// interrupt wakes every call parked on the descriptor (see Interrupt).
func (c *conn) interrupt() { Interrupt(c.f) }

func (c *conn) closeWrite() (perr, serr error) {
	perr = c.rc.Control(func(fd uintptr) { serr = sock.ShutdownWrite(int(fd)) })
	return perr, serr
}

// peerCred asks the kernel for the credentials it recorded for the peer.
func (c *conn) peerCred() (cred sock.Cred, perr, serr error) {
	perr = c.rc.Control(func(fd uintptr) { cred, serr = sock.PeerCred(int(fd)) })
	return cred, perr, serr
}

func (c *conn) rawConn() syscall.RawConn { return c.rc }

// close closes the descriptor once no call is inside a system call on it;
// parked calls wake with an error.
func (c *conn) close() error { return c.f.Close() }
