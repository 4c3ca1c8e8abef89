package sock

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRoundTrip(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	lfd, ino := listenT(t, path)
	st := lstatT(t, path)
	assert.Equal(t, uint32(unix.S_IFSOCK), st.Mode&unix.S_IFMT)
	assert.Equal(t, st.Ino, ino, "Listen reports the socket file's inode")

	client := dialT(t, path)
	server := acceptT(t, lfd)

	for name, fd := range map[string]int{"listener": lfd, "dialed": client, "accepted": server} {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		require.NoError(t, err)
		assert.NotZero(t, fl&unix.O_NONBLOCK, "%s is non-blocking", name)
		fd, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		require.NoError(t, err)
		assert.NotZero(t, fd&unix.FD_CLOEXEC, "%s is close-on-exec", name)
	}

	ping := []byte("ping\x00\xffpong")
	n, err := Send(client, ping)
	require.NoError(t, err)
	require.Equal(t, len(ping), n)
	assert.Equal(t, ping, readT(t, server, len(ping)))

	reply := []byte("reply")
	n, err = Send(server, reply)
	require.NoError(t, err)
	require.Equal(t, len(reply), n)
	assert.Equal(t, reply, readT(t, client, len(reply)))
}

func TestAcceptEmptyQueue(t *testing.T) {
	checkFDs(t)
	lfd, _ := listenT(t, filepath.Join(t.TempDir(), "s"))
	fd, err := Accept(lfd)
	assert.Equal(t, unix.EAGAIN, err, "a raw errno the caller can park on")
	assert.Equal(t, -1, fd)
}

func TestListenReplacesStaleSocket(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	makeStale(t, path)

	// The file system may give the new file the old one's inode number, so
	// only a connection tells the two apart.
	lfd, ino := listenT(t, path)
	assert.Equal(t, lstatT(t, path).Ino, ino)
	dialT(t, path)
	acceptT(t, lfd)
}

func TestListenLiveServer(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	lfd, ino := listenT(t, path)

	fd, _, err := Listen(path, ListenConfig{Group: -1})
	require.ErrorIs(t, err, ipcerr.ErrAddressInUse)
	assert.ErrorIs(t, err, unix.EADDRINUSE)
	assert.Equal(t, -448, ipcerr.Status(err))
	assert.Equal(t, -1, fd)
	assert.Contains(t, err.Error(), path)
	assert.Equal(t, ino, lstatT(t, path).Ino, "the live server keeps its file")

	// The probe is the first session the live server sees, and it ends at
	// once; a real client comes after it.
	probe := acceptT(t, lfd)
	var b [1]byte
	n, err := unix.Read(probe, b[:])
	assert.NoError(t, err)
	assert.Zero(t, n, "the probe hung up")

	client := dialT(t, path)
	server := acceptT(t, lfd)
	_, err = Send(client, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), readT(t, server, 1))
}

func TestListenLeavesOthersFiles(t *testing.T) {
	cases := []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"regular file", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("data"), 0o644))
		}},
		{"directory", func(t *testing.T, path string) {
			require.NoError(t, os.Mkdir(path, 0o755))
		}},
		{"dangling symlink", func(t *testing.T, path string) {
			require.NoError(t, os.Symlink(path+".nowhere", path))
		}},
		// The probe would follow the link and find the target refusing: a
		// link is never probed, so neither it nor its target goes.
		{"symlink to a stale socket", func(t *testing.T, path string) {
			makeStale(t, path+".target")
			require.NoError(t, os.Symlink(path+".target", path))
		}},
		{"socket of another user", func(t *testing.T, path string) {
			requireRoot(t)
			makeStale(t, path)
			require.NoError(t, os.Lchown(path, nobody, nobody))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFDs(t)
			path := filepath.Join(t.TempDir(), "s")
			tc.make(t, path)
			before := lstatT(t, path)

			fd, _, err := Listen(path, ListenConfig{Group: -1})
			require.ErrorIs(t, err, ipcerr.ErrAddressInUse)
			assert.Equal(t, -1, fd)

			after := lstatT(t, path)
			assert.Equal(t, before.Ino, after.Ino, "untouched")
			assert.Equal(t, before.Mode, after.Mode)
			assert.Equal(t, before.Uid, after.Uid)
			if _, err := os.Lstat(path + ".target"); err == nil {
				assert.Equal(t, uint32(unix.S_IFSOCK), lstatT(t, path+".target").Mode&unix.S_IFMT)
			}
		})
	}
}

func TestListenModeAndGroup(t *testing.T) {
	requireRoot(t)
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	fd, ino, err := Listen(path, ListenConfig{Mode: 0o600, Group: nobody})
	require.NoError(t, err)
	defer Unlink(path, ino)
	defer unix.Close(fd)
	st := lstatT(t, path)
	assert.Equal(t, uint32(0o600), st.Mode&0o7777)
	assert.Equal(t, uint32(nobody), st.Gid)
	assert.Equal(t, uint32(0), st.Uid)
}

// A client without permission must be refused from the first moment the
// socket can accept, and right after bind: the hooks run there, when a connect
// that passes the permission check gets ECONNREFUSED and one that fails it
// gets EACCES. bind runs under umask 0, so without the chmod the file would
// let anyone in.
func TestListenAccessInForceBeforeListen(t *testing.T) {
	requireRoot(t)
	exe := nobodyExe(t)
	cases := []struct {
		name                 string
		cfg                  ListenConfig
		bound, before, after string
	}{
		{"no change (control)", ListenConfig{Group: -1}, "ECONNREFUSED", "ECONNREFUSED", "OK"},
		{"owner only", ListenConfig{Mode: 0o600, Group: -1}, "EACCES", "EACCES", "EACCES"},
		// Until the chown the file's group is root's: closed to nobody.
		{"group granted", ListenConfig{Mode: 0o660, Group: nobody}, "EACCES", "ECONNREFUSED", "OK"},
		{"other group", ListenConfig{Mode: 0o660, Group: 0}, "EACCES", "EACCES", "EACCES"},
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFDs(t)
			path := filepath.Join(publicDir(t), "s")
			var bound, before string
			fd, ino, err := listen(path, tc.cfg, maxBacklog, listenHooks{
				afterBind:    func() { bound = connectAsNobody(t, exe, path) },
				beforeListen: func() { before = connectAsNobody(t, exe, path) },
			})
			require.NoError(t, err)
			defer Unlink(path, ino)
			defer unix.Close(fd)
			assert.Equal(t, tc.bound, bound, "right after bind")
			assert.Equal(t, tc.before, before, "before listen")
			assert.Equal(t, tc.after, connectAsNobody(t, exe, path), "after Listen")
		})
	}
}

func TestUnlinkOnlyOurInode(t *testing.T) {
	checkFDs(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	fd, oldIno, err := Listen(path, ListenConfig{Group: -1})
	require.NoError(t, err)
	unix.Close(fd)

	// A newer server's socket takes the name; both files exist at once, so
	// the inode numbers differ.
	makeStale(t, path+".new")
	require.NoError(t, os.Rename(path+".new", path))
	newIno := lstatT(t, path).Ino
	require.NotEqual(t, oldIno, newIno)

	require.NoError(t, Unlink(path, oldIno))
	assert.Equal(t, newIno, lstatT(t, path).Ino, "the newer socket stays")

	require.NoError(t, Unlink(path, newIno))
	_, err = os.Lstat(path)
	assert.ErrorIs(t, err, os.ErrNotExist)

	assert.NoError(t, Unlink(path, newIno), "a missing file is fine")
}

func TestUnlinkLeavesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	require.NoError(t, Unlink(path, lstatT(t, path).Ino))
	_, err := os.Lstat(path)
	assert.NoError(t, err)
}

func TestListenNameErrors(t *testing.T) {
	checkFDs(t)
	_, _, err := Listen("", ListenConfig{Group: -1})
	assert.ErrorIs(t, err, ipcerr.ErrInvalidName)
	_, _, err = Listen(filepath.Join(t.TempDir(), "no", "such", "dir", "s"), ListenConfig{Group: -1})
	assert.ErrorIs(t, err, ipcerr.ErrNotFound)
	assert.ErrorIs(t, err, unix.ENOENT)
}

func TestDialAfterClose(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	fd, ino, err := Listen(path, ListenConfig{Group: -1})
	require.NoError(t, err)
	unix.Close(fd)
	require.NoError(t, Unlink(path, ino))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = Dial(ctx, path)
	assert.ErrorIs(t, err, ipcerr.ErrNotFound)
}

// Between bind and listen a server's socket refuses connections like a
// stale one, so a second Listen of the name in that window replaces it. The
// first must then notice and give up instead of serving a socket nobody can
// reach, and must leave the second's file alone.
func TestListenLosesNameBeforeListen(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	var (
		secondFD  int
		secondIno uint64
		secondErr error
	)
	fd, _, err := listen(path, ListenConfig{Group: -1}, maxBacklog, listenHooks{beforeListen: func() {
		secondFD, secondIno, secondErr = Listen(path, ListenConfig{Group: -1})
	}})
	require.NoError(t, secondErr)
	defer Unlink(path, secondIno)
	defer unix.Close(secondFD)

	assert.Equal(t, -1, fd)
	assert.ErrorIs(t, err, ipcerr.ErrAddressInUse)
	assert.Equal(t, secondIno, lstatT(t, path).Ino, "the second server keeps its file")
	dialT(t, path)
	acceptT(t, secondFD)
}
