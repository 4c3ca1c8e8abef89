//go:build unix

package localipc

import (
	"fmt"
	"os"
	"syscall"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// endpoint is a server's name and listening handle on Unix: a socket file,
// and the listening socket bound to it.
type endpoint struct {
	path string
	ino  uint64 // of the socket file we bound: release removes only that file
	fd   int    // the listening socket

	// For Listen: fd on the runtime poller, where AcceptSession parks, every
	// accept made through rc. nil for Serve, whose loop owns fd.
	f  *os.File
	rc syscall.RawConn
}

var errNoSecurityDescriptor = fmt.Errorf("%w: a security descriptor (WithSecurityDescriptor) on a Unix socket, which has a file mode: use WithAccessMode or WithGroupAccess", ErrNotSupported)

// listen makes the listening socket at path, with the mode and group that
// the flags and options ask for in force before listen(2), so that no
// client connects under the umask's mode. With parkable, the socket goes on
// the runtime poller for AcceptSession.
func listen(path string, flags Flags, o *options, parkable bool) (endpoint, error) {
	if o.sddl != nil {
		return endpoint{}, errNoSecurityDescriptor
	}
	cfg := sock.ListenConfig{Mode: o.mode, Group: o.group}
	if flags&RestrictToUser != 0 && cfg.Mode == 0 {
		cfg.Mode = 0o600
	}
	fd, ino, err := sock.Listen(path, cfg)
	if err != nil {
		return endpoint{}, err
	}
	e := endpoint{path: path, ino: ino, fd: fd}
	if !parkable {
		return e, nil
	}
	e.f = os.NewFile(uintptr(fd), path)
	if e.rc, err = sock.PolledConn(e.f); err != nil {
		e.release() // before the close (see release)
		e.f.Close()
		return endpoint{}, err
	}
	return e, nil
}

// accept waits for one client and returns its socket. woken says that
// Cancel or Close woke the wait (interrupt); err is anything else that
// stopped it, out of descriptors above all.
func (e *endpoint) accept() (h uintptr, woken bool, err error) {
	nfd := -1
	var aerr error
	if err := e.rc.Read(func(fd uintptr) bool {
		nfd, aerr = sock.Accept(int(fd))
		return aerr != unix.EAGAIN
	}); err != nil {
		return 0, true, nil
	}
	if aerr != nil {
		return 0, false, ipcerr.OSError("accept", e.path, aerr)
	}
	return uintptr(nfd), false, nil
}

// interrupt wakes every AcceptSession parked on the listener.
func (e *endpoint) interrupt() { session.Interrupt(e.f) }

// release removes the socket file if it is still ours. It must come before
// the socket is closed, by whichever path closes it first: once the fd is
// gone our file is stale, a new server on the name unlinks it and binds its
// own, which may get our inode number (ext4 reuses a freed one at once), and
// a release made then would pass the inode check and remove the newcomer's
// file. Only the open socket keeps the number ours.
func (e *endpoint) release() error { return sock.Unlink(e.path, e.ino) }

// close closes a Listen server's socket; parked accepts wake first.
func (e *endpoint) close() error { return e.f.Close() }

func (e *endpoint) chmod(mode os.FileMode) error { return sock.Chmod(e.path, e.ino, mode) }

func (e *endpoint) chown(gid int) error { return sock.Chown(e.path, e.ino, gid) }

// peerCredOf returns what the kernel recorded of an accepted client.
func peerCredOf(h uintptr) (sock.Cred, error) { return sock.PeerCred(int(h)) }

// closeHandle closes a handle that never became a session.
func closeHandle(h uintptr) { sock.Close(int(h)) }
