package session

import (
	"os"
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
	"github.com/localipc/localipc/internal/winapi"
	"golang.org/x/sys/windows"
)

// conn is the blocking face's handle on Windows: an os.File over an
// overlapped pipe handle, which os.NewFile puts on Go's runtime completion
// port (Go 1.25 and later), so that f.Read and f.Write park the goroutine,
// not a thread, deadlines work, and Close cancels the I/O in flight and waits
// for it before the handle goes. Two rules keep it so: the handle is on no
// other completion port when New sees it, and nothing here calls f.Fd(),
// which would take it off the runtime's port. RawConn.Read and Write are not
// used either: on Windows their wait is a socket's. What is neither a read
// nor a write (PeekNamedPipe, the peer's pid) runs under Control.
//
// conn holds what every Read and Write touches, as on Unix (see blocking);
// rawCalls the RawConn that the rarer calls use.
type conn struct {
	f *os.File
}

// rawCalls is the handle's RawConn: Control for PeekNamedPipe and the peer's
// pid.
type rawCalls struct {
	rc syscall.RawConn
}

// writeChunk bounds one WriteFile: a write the pipe cannot take whole pends
// until the peer reads, and one cut short by a deadline or Cancel reports the
// chunks that went, which a single huge WriteFile might not.
const writeChunk = 64 << 10

func (b *blocking) initConn(fd uintptr) error {
	// The runtime's port refuses a handle that is on another port already.
	f, rc, err := sock.OpenPolled(fd, "localipc")
	if err != nil {
		return err
	}
	b.conn.f, b.rawCalls.rc = f, rc
	return nil
}

// avail asks the pipe how many bytes a read would find (PeekNamedPipe under
// Control, which never blocks). eof: the peer is gone and nothing is left.
func (r *rawCalls) avail() (n uint32, eof bool, perr, serr error) {
	perr = r.rc.Control(func(fd uintptr) { n, serr = winapi.PeekNamedPipe(windows.Handle(fd)) })
	if serr == windows.ERROR_BROKEN_PIPE {
		return 0, true, perr, nil
	}
	return n, false, perr, serr
}

// readNow reads what has arrived, without waiting, as IPRT's ReadNB does:
// PeekNamedPipe, errWouldBlock when nothing is there, else a read of no more
// than is there, which completes at once.
func (b *blocking) readNow(p []byte) (n int, perr, serr error) {
	avail, eof, perr, serr := b.rawCalls.avail()
	switch {
	case perr != nil || serr != nil || eof:
		return 0, perr, serr
	case avail == 0:
		return 0, nil, errWouldBlock
	}
	n, err := b.conn.read(p[:min(int(avail), len(p))])
	perr, serr = split(err)
	return n, perr, serr
}

// send writes all of p, parking while the pipe is full; n is what went.
// Caller holds the writer's turn.
func (b *blocking) send(p []byte) (n int, perr, serr error) {
	for n < len(p) {
		m, err := b.conn.f.Write(p[n:min(len(p), n+writeChunk)])
		n += m
		if err != nil {
			perr, serr = split(err)
			return n, perr, serr
		}
	}
	return n, nil, nil
}

func (c *conn) setReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *conn) setWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// interrupt wakes every call parked on the handle (see Interrupt).
func (c *conn) interrupt() { Interrupt(c.f) }

// closeWrite: a byte-mode pipe has no half-close (a zero-length write is not
// delivered, and DisconnectNamedPipe drops what the peer has not read yet).
func (r *rawCalls) closeWrite() (perr, serr error) {
	return nil, ipcerr.ErrNotSupported
}

// peerCred returns the peer's process id, as the pipe recorded it: the
// client's on the server end, the server's on the client end, and whether
// that process runs as our user (its token's user SID, as IPRT's client
// checks its server). A user on Windows is a SID, not a uid, so UID and GID
// are -1 with IDErr set.
func (r *rawCalls) peerCred() (cred sock.Cred, perr, serr error) {
	perr = r.rc.Control(func(fd uintptr) { cred, serr = pipePeerCred(windows.Handle(fd)) })
	return cred, perr, serr
}

// pipePeerCred is peerCred for a pipe handle.
func pipePeerCred(h windows.Handle) (sock.Cred, error) {
	var flags uint32
	if err := windows.GetNamedPipeInfo(h, &flags, nil, nil, nil); err != nil {
		return sock.Cred{PID: -1, UID: -1, GID: -1}, err
	}
	var pid uint32
	var err error
	if flags&windows.PIPE_SERVER_END != 0 {
		err = windows.GetNamedPipeClientProcessId(h, &pid)
	} else {
		err = windows.GetNamedPipeServerProcessId(h, &pid)
	}
	cred := sock.Cred{PID: int(pid), UID: -1, GID: -1, IDErr: ipcerr.ErrNotSupported}
	if err != nil {
		cred.PID, cred.PIDErr = -1, err
	}
	same := err == nil && sameUserAs(pid)
	cred.SameUser = &same
	return cred, nil
}

// sameUserAs reports whether process pid runs as our token's user. A process
// we cannot open or whose token we cannot read is taken for another user's:
// VerifySameUser then says ErrAccessDenied, which is what it must not get
// wrong the other way.
func sameUserAs(pid uint32) bool {
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return false
	}
	defer windows.CloseHandle(p)
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return false
	}
	defer tok.Close()
	peer, err := tok.GetTokenUser()
	if err != nil {
		return false
	}
	own, err := windows.GetCurrentProcessToken().GetTokenUser()
	return err == nil && windows.EqualSid(peer.User.Sid, own.User.Sid)
}

// PeerCredOf is peerCred for a handle that is not a session yet: the server's
// peer check runs on it before AcceptSession hands it over.
func PeerCredOf(h uintptr) (sock.Cred, error) { return pipePeerCred(windows.Handle(h)) }

// rawConn gives Control (the handle, for calls of the caller's own); its Read
// and Write are the runtime's for sockets and do not work on a pipe.
func (r *rawCalls) rawConn() syscall.RawConn { return r.rc }

// close cancels what is in flight on the handle, waits for it, and closes
// the handle; parked calls wake with an error.
func (b *blocking) close() error { return b.conn.f.Close() }
