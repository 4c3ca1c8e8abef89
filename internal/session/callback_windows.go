package session

import (
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
	"github.com/localipc/localipc/internal/winapi"
	"github.com/localipc/localipc/reactor"
	"golang.org/x/sys/windows"
)

// The callback face's I/O verbs on Windows, over the loop's completion port
// (reactor/iocp_windows.go), which reports a pipe Readable when its
// zero-byte read completes and Writable when the registration's overlapped
// WriteFile does.
//
//   - recv reads only what has arrived (PeekNamedPipe for the count, then a
//     ReadFile of no more, which completes at once), into the loop's buffer;
//     an idle session has only the poller's zero-byte read in flight, and no
//     buffer.
//   - send hands the kernel only the output queue's own bytes, which stay
//     where they are until the write's completion is seen (outState.inFlight):
//     never a caller's slice, which is gone when Write returns. So a Write
//     queues first, and the loop starts the WriteFile on the writable turn
//     that armWritable asks for; one write is in flight per session at most.

// CallbackFace reports whether sessions can be served by callbacks here:
// on Windows they can, on the reactor's completion ports.
func CallbackFace() error { return nil }

func closeHandle(h uintptr) { windows.CloseHandle(windows.Handle(h)) }

// sysLoop is what a loop's sessions share on Windows: the OVERLAPPED of the
// reads that complete at once. It is on the heap and the loop's alone, and a
// read never returns while the kernel may still write to it.
type sysLoop struct {
	ov *windows.Overlapped
}

// recv reads what has arrived into buf: (0, nil) at the end of the stream,
// errWouldBlock when nothing has. A read that leaves nothing behind posts
// the next zero-byte read, since the last one's completion was this
// Readable: a completion port reports an edge once.
func (c *evConn) recv(buf []byte) (int, error) {
	h := windows.Handle(c.h)
	avail, err := winapi.PeekNamedPipe(h)
	want := buf
	switch {
	case err == nil && avail == 0:
		return 0, errWouldBlock
	case err == nil:
		want = buf[:min(len(buf), int(avail))]
	case !pipeGone(err):
		return 0, err
	}
	// A broken pipe may still hold what the peer wrote before it went: the
	// read returns that, and then the end.
	n, err := c.ls.sys.readNow(h, want)
	switch {
	case pipeGone(err):
		if n > 0 {
			return n, nil
		}
		return 0, nil
	case err != nil:
		return 0, err
	}
	if n < len(buf) {
		c.ls.loop.Arm(c.reg, reactor.Readable)
	}
	return n, nil
}

// watchEnd keeps a cancelled session watching for its peer's end, which a
// completion port reports only through a read (a zero-byte read posted on
// unread bytes completes at once, for ever): what has arrived is read and
// dropped, since no OnData runs after Cancel, and recv posts the next
// zero-byte read; the hang-up then ends the session as on Unix. Loop-only.
func (c *evConn) watchEnd() {
	// A short read has posted the next zero-byte read (recv).
	for n, ok := c.recvSome(false); ok && n == len(c.ls.buf); {
		n, ok = c.recvSome(false)
	}
}

// pipeGone reports the errors of a pipe whose peer has closed its end.
func pipeGone(err error) bool {
	return errors.Is(err, windows.ERROR_BROKEN_PIPE) || errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED) ||
		errors.Is(err, windows.ERROR_NO_DATA)
}

// readNow reads into buf, no more than has arrived, so that the ReadFile
// finishes at once and, the handle skipping the port on success, posts no
// packet. Were it to pend all the same, buf (the loop's) and the OVERLAPPED
// must not be reused before the kernel is done with them: the read is
// cancelled and waited for, keeping what it read. Its packet then reaches the
// port, whose poller drops an OVERLAPPED that is not its own.
func (s *sysLoop) readNow(h windows.Handle, buf []byte) (int, error) {
	if s.ov == nil {
		s.ov = new(windows.Overlapped)
	}
	*s.ov = windows.Overlapped{}
	var n uint32 // non-nil: x/sys's race hooks dereference it
	err := windows.ReadFile(h, buf, &n, s.ov)
	if err == windows.ERROR_IO_PENDING {
		windows.CancelIoEx(h, s.ov)
		for atomic.LoadUintptr(&s.ov.Internal) == uintptr(windows.STATUS_PENDING) {
			runtime.Gosched()
		}
		err = windows.GetOverlappedResult(h, s.ov, &n, false)
		if errors.Is(err, windows.ERROR_OPERATION_ABORTED) {
			err = nil
		}
	}
	return int(n), err
}

// send writes the output queue: it is handed p only by sendQueued, on the
// loop, where p is the queue's pending bytes; anything else (the queue is
// empty, so p is a caller's) is refused with errWouldBlock, and the caller
// queues it. A write whose completion has come is collected first: its
// bytes are the ones consumed. Then the rest goes in one overlapped
// WriteFile: done at once, or in flight (errWouldBlock) until its completion,
// the next Writable. Caller holds mu.
func (c *evConn) send(p []byte) (int, error) {
	o := c.out
	if c.queued() == 0 {
		return 0, errWouldBlock
	}
	l := c.ls.loop
	n := 0
	if o.inFlight {
		m, pending, err := l.Written(c.reg)
		if pending {
			return 0, errWouldBlock
		}
		// Cleared only now that the completion is seen: until then consume
		// and push must neither recycle nor move the bytes the kernel reads.
		o.inFlight = false
		if err != nil {
			return m, err
		}
		n = m
	}
	for n < len(p) {
		m, pending, err := l.Write(c.reg, p[n:])
		switch {
		case err != nil:
			return n, err
		case pending:
			o.inFlight = true
			return n, errWouldBlock
		case m == 0:
			return n, errWouldBlock // no room: Writable says when (not on a completion port)
		}
		n += m
	}
	return n, nil
}

// shutdownWriteOf: a byte-mode pipe has no half-close, as for the blocking
// face (blocking_windows.go's closeWrite).
func (c *evConn) shutdownWriteOf(uintptr) error { return ipcerr.ErrNotSupported }

func (c *evConn) peerCredOf(h uintptr) (sock.Cred, error) { return pipePeerCred(windows.Handle(h)) }
