//go:build unix

package sock

import (
	"fmt"
	"math"
	"os"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// maxBacklog asks for the longest accept queue the system allows: every
// kernel clamps a larger listen(2) backlog to somaxconn, so this follows the
// system's setting without reading it. IPRT's 16 makes a burst of clients
// fail or wait.
const maxBacklog = math.MaxInt32

// Listen creates a listening socket at path and returns it with the inode of
// the socket file, for Unlink. A stale socket file of ours (connect refused)
// is replaced; a live server's socket, another user's socket or anything
// that is not a socket fails with ipcerr.ErrAddressInUse and is left alone.
func Listen(path string, cfg ListenConfig) (fd int, ino uint64, err error) {
	return listen(path, cfg, maxBacklog, listenHooks{})
}

// listenHooks run inside listen at the moments tests look at: right after
// bind(2), when the file exists with the mode bind gave it, and just before
// listen(2), when its mode and group are final but no client can connect.
type listenHooks struct {
	afterBind, beforeListen func()
}

// listen is Listen with the backlog and hooks, for tests that need a full
// queue or to look at the file before clients can connect.
func listen(path string, cfg ListenConfig, backlog int, hooks listenHooks) (int, uint64, error) {
	fsPath, sa, err := sockAddr(path)
	if err != nil {
		return -1, 0, err
	}
	fd, err := newSocket()
	if err != nil {
		return -1, 0, ipcerr.OSError("socket", path, err)
	}
	// A client's connect checks the file's mode before it finds whether the
	// socket listens: one that passed the check while the file still had
	// bind's mode, and got there after listen(2), would be let in although
	// the chmod below came first. Where bind takes the file's mode from the
	// socket, the file is never more open than asked.
	if cfg.Mode != 0 {
		if err := modeBeforeBind(fd, cfg.Mode); err != nil {
			unix.Close(fd)
			return -1, 0, ipcerr.OSError("fchmod", path, err)
		}
	}
	if err := bind(fd, path, fsPath, sa); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	if hooks.afterBind != nil {
		hooks.afterBind()
	}
	ino, err := inode(fsPath)
	if err != nil {
		// Without the inode we cannot tell our file from a newcomer's, so
		// leaving it is the safe choice.
		unix.Close(fd)
		return -1, 0, ipcerr.OSError("lstat", path, err)
	}
	fail := func(err error) (int, uint64, error) {
		Unlink(path, ino)
		unix.Close(fd)
		return -1, 0, err
	}
	// chown before chmod: a chown by a non-root owner may clear mode bits, and
	// the mode asked for is what must hold in the end.
	if cfg.Group >= 0 {
		if err := unix.Lchown(fsPath, -1, cfg.Group); err != nil {
			return fail(ipcerr.OSError("chown", path, err))
		}
	}
	if cfg.Mode != 0 {
		if err := unix.Chmod(fsPath, uint32(cfg.Mode.Perm())); err != nil {
			return fail(ipcerr.OSError("chmod", path, err))
		}
	}
	if hooks.beforeListen != nil {
		hooks.beforeListen()
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail(ipcerr.OSError("listen", path, err))
	}
	// Until listen(2) a concurrent Listen of the same name could probe our
	// file, be refused, take it for stale and replace it. Then it holds the
	// name; we must not serve an unreachable socket nor remove its file.
	if now, err := inode(fsPath); err != nil || now != ino {
		unix.Close(fd)
		return -1, 0, addrInUse(path, "the socket file was replaced or removed while the server started")
	}
	return fd, ino, nil
}

// bind binds fd to path, replacing a stale socket file of ours once.
func bind(fd int, path, fsPath string, sa *unix.SockaddrUnix) error {
	err := unix.Bind(fd, sa)
	if err != unix.EADDRINUSE {
		return ipcerr.OSError("bind", path, err)
	}
	if err := checkStale(path, fsPath, sa); err != nil {
		return err
	}
	if err := unix.Unlink(fsPath); err != nil && err != unix.ENOENT {
		return ipcerr.OSError("unlink", path, err)
	}
	return ipcerr.OSError("bind", path, unix.Bind(fd, sa))
}

// checkStale returns nil if the file at fsPath may be removed: a socket of
// ours that refuses connections (or a file already gone). Everything else is
// someone's, and an error.
//
// On the BSDs and macOS a listener whose queue is full also refuses, where
// Linux says EAGAIN; with the queue at somaxconn that needs a flood of
// clients the server is not accepting, and it costs that server its name.
func checkStale(path, fsPath string, sa *unix.SockaddrUnix) error {
	var st unix.Stat_t
	if err := unix.Lstat(fsPath, &st); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return ipcerr.OSError("lstat", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return addrInUse(path, "the file there is not a socket")
	}
	if int(st.Uid) != os.Geteuid() {
		return addrInUse(path, "the socket there belongs to another user")
	}
	probe, err := newSocket()
	if err != nil {
		return ipcerr.OSError("socket", path, err)
	}
	defer unix.Close(probe)
	switch err := unix.Connect(probe, sa); err {
	case unix.ECONNREFUSED, unix.ENOENT:
		return nil
	case nil, unix.EAGAIN:
		return addrInUse(path, "a server is listening there")
	default:
		return ipcerr.OSError("connect", path, err)
	}
}

func addrInUse(path, why string) error {
	return fmt.Errorf("%w (%s)", ipcerr.OSError("bind", path, unix.EADDRINUSE), why)
}

// inode returns the inode of the socket file at fsPath, or ENOENT if that is
// not a socket any more.
func inode(fsPath string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Lstat(fsPath, &st); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return 0, unix.ENOENT
	}
	return uint64(st.Ino), nil
}

// Chmod sets the mode of the socket file at path if it is still the one with
// inode ino: a server changes its own socket, never a file that replaced it
// or, through a symlink, whatever the symlink points to.
func Chmod(path string, ino uint64, mode os.FileMode) error {
	fsPath, err := ours(path, ino)
	if err != nil {
		return err
	}
	return ipcerr.OSError("chmod", path, unix.Chmod(fsPath, uint32(mode.Perm())))
}

// Chown gives the socket file at path to group gid, if it is still the one
// with inode ino (see Chmod); a symlink is never followed.
func Chown(path string, ino uint64, gid int) error {
	fsPath, err := ours(path, ino)
	if err != nil {
		return err
	}
	return ipcerr.OSError("chown", path, unix.Lchown(fsPath, -1, gid))
}

// ours returns the file-system path of path if it still names the socket
// with inode ino, else an error matching ipcerr.ErrNotFound: the server's
// socket is gone from there.
func ours(path string, ino uint64) (string, error) {
	fsPath, _, err := sockAddr(path)
	if err != nil {
		return "", err
	}
	if now, err := inode(fsPath); err != nil || now != ino {
		return "", ipcerr.OSError("lstat", path, unix.ENOENT)
	}
	return fsPath, nil
}

// Unlink removes the socket file at path if it is still the one with inode
// ino, so that a server going away never removes the name of a server that
// replaced it. A missing file is not an error. Call it before closing the
// listener: the bound socket holds its inode, so until then no newer file can
// have been given the same number (ext4 reuses freed ones at once).
func Unlink(path string, ino uint64) error {
	fsPath, _, err := sockAddr(path)
	if err != nil {
		return err
	}
	now, err := inode(fsPath)
	if err == unix.ENOENT || (err == nil && now != ino) {
		return nil
	}
	if err != nil {
		return ipcerr.OSError("lstat", path, err)
	}
	if err := unix.Unlink(fsPath); err != nil && err != unix.ENOENT {
		return ipcerr.OSError("unlink", path, err)
	}
	return nil
}
