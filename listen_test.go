//go:build linux

// The file at the socket path: Listen over stale, live and foreign files; Close removes only its own.

package localipc_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/reactor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListenReplacesStaleSocket(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)
	path, err := localipc.Path(name, 0)
	require.NoError(t, err)

	// A dead server's leftover: a socket file nobody listens on.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	l.SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	t.Cleanup(func() { os.Remove(path) })

	_, err = localipc.Dial(name, 0)
	expect(t, err, localipc.ErrConnectionRefused, ipcerr.VERR_NET_CONNECTION_REFUSED, "Dial to a stale socket")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)

	srv, err := localipc.Listen(name, 0)
	require.NoError(t, err, "Listen over a stale socket")
	t.Cleanup(func() { srv.Close() })
	assert.Equal(t, uint32(syscall.S_IFSOCK), statT(t, path).Mode&syscall.S_IFMT)

	// The inode number proves nothing here (ext4 hands the freed one to the
	// new file at once); a connection that is now accepted does.
	client, server := connect(t, srv, name, 0)
	exchange(t, client, server, "after stale")
	require.NoError(t, srv.Close())
	requireGone(t, path)
}

func TestListenLiveNameInUse(t *testing.T) {
	noFDLeak(t)
	first, name := listen(t, 0)
	path := first.Addr().String()
	ino := statT(t, path).Ino

	second, err := localipc.Listen(name, 0)
	expect(t, err, localipc.ErrAddressInUse, ipcerr.VERR_NET_ADDRESS_IN_USE, "second Listen on a live name")
	assert.Nil(t, second)
	assert.Equal(t, ino, statT(t, path).Ino, "the live server's file must be untouched")

	// The stale-socket probe was a real connection (doc.go): the first
	// server sees it as a session that ends at once.
	probe := within(t, acceptAsync(t, first), 10*time.Second, "accept the probe")
	require.NoError(t, probe.err)
	n, err := probe.s.Read(make([]byte, 1))
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF, "the probe session ends at once")
	require.NoError(t, probe.s.Close())

	client, server := connect(t, first, name, 0)
	exchange(t, client, server, "first server still serves")
}

func TestListenLeavesForeignFilesAlone(t *testing.T) {
	noFDLeak(t)
	live, liveName := listen(t, 0)
	cases := []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"regular file", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("not a socket\n"), 0o644))
		}},
		{"directory", func(t *testing.T, path string) {
			require.NoError(t, os.Mkdir(path, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(path, "inside"), []byte("x"), 0o600))
		}},
		{"symlink to a regular file", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "target")
			require.NoError(t, os.WriteFile(target, []byte("target\n"), 0o644))
			require.NoError(t, os.Symlink(target, path))
		}},
		{"dangling symlink", func(t *testing.T, path string) {
			require.NoError(t, os.Symlink(filepath.Join(t.TempDir(), "nothing"), path))
		}},
		{"symlink to a live server's socket", func(t *testing.T, path string) {
			require.NoError(t, os.Symlink(live.Addr().String(), path))
		}},
		{"another user's stale socket", func(t *testing.T, path string) {
			needRoot(t)
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			require.NoError(t, err)
			l.SetUnlinkOnClose(false)
			require.NoError(t, l.Close())
			require.NoError(t, os.Lchown(path, nobody, nobody))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			noFDLeak(t)
			name := uniqueName(t)
			path, err := localipc.Path(name, 0)
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(path) })
			c.make(t, path)
			before := statT(t, path)
			link, _ := os.Readlink(path)
			content, _ := os.ReadFile(path)

			srv, err := localipc.Listen(name, 0)
			expect(t, err, localipc.ErrAddressInUse, ipcerr.VERR_NET_ADDRESS_IN_USE, "Listen on "+c.name)
			if srv != nil {
				srv.Close()
			}

			after := statT(t, path)
			// ext4 may give a recreated file the freed inode number, so
			// the owner and change time must match too.
			assert.Equal(t, before.Ino, after.Ino, "same inode")
			assert.Equal(t, before.Mode, after.Mode, "same type and mode")
			assert.Equal(t, [2]uint32{before.Uid, before.Gid}, [2]uint32{after.Uid, after.Gid}, "same owner")
			assert.Equal(t, before.Ctim, after.Ctim, "same change time")
			gotLink, _ := os.Readlink(path)
			assert.Equal(t, link, gotLink, "same link target")
			gotContent, _ := os.ReadFile(path)
			assert.Equal(t, content, gotContent, "same content")
		})
	}
	// The live server behind the symlink was neither stolen nor probed
	// into uselessness.
	client, server := connect(t, live, liveName, 0)
	exchange(t, client, server, "live server behind the symlink")
}

func TestServerCloseRemovesOnlyItsOwnFile(t *testing.T) {
	noFDLeak(t)
	a, name := listen(t, 0)
	path := a.Addr().String()
	require.NoError(t, os.Remove(path))

	b, err := localipc.Listen(name, 0)
	require.NoError(t, err, "Listen after A's file was removed")
	t.Cleanup(func() { b.Close() })
	closeSparesTheNewcomer(t, a, b, name)
}

// closeSparesTheNewcomer closes old, which has lost its name to newcomer,
// and checks that newcomer's file is still there and serves; then that
// newcomer's own Close removes it.
func closeSparesTheNewcomer(t *testing.T, old, newcomer *localipc.Server, name string) {
	t.Helper()
	path := newcomer.Addr().String()
	ino := statT(t, path).Ino
	expect(t, old.Close(), nil, ipcerr.VINF_SUCCESS, "the old server's Close")
	assert.Equal(t, ino, statT(t, path).Ino, "the newcomer's file survives the old Close")
	client, server := connect(t, newcomer, name, 0)
	exchange(t, client, server, "the newcomer after the old Close")
	require.NoError(t, newcomer.Close())
	requireGone(t, path)
}

// TestSecurityDescriptorIsWindowsOnly: a socket has a file mode, not a
// security descriptor; Listen and Serve refuse the option plainly, before
// they make anything.
func TestSecurityDescriptorIsWindowsOnly(t *testing.T) {
	for _, tc := range []struct {
		what   string
		listen func(name string) (*localipc.Server, error)
	}{
		{"Listen", func(name string) (*localipc.Server, error) {
			return localipc.Listen(name, 0, localipc.WithSecurityDescriptor("D:P(A;;GA;;;WD)"))
		}},
		{"Serve", func(name string) (*localipc.Server, error) {
			return localipc.Serve(name, 0, &funcHandler{}, localipc.WithSecurityDescriptor(""))
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			name := uniqueName(t)
			srv, err := tc.listen(name)
			assert.Nil(t, srv)
			assert.ErrorIs(t, err, localipc.ErrNotSupported)
			assert.Contains(t, err.Error(), "WithAccessMode", "the error says what to use instead")
			path, perr := localipc.Path(name, 0)
			require.NoError(t, perr)
			_, serr := os.Lstat(path)
			assert.ErrorIs(t, serr, os.ErrNotExist, "no socket file was made")
		})
	}
}

// TestServeCloseAfterItsListenerClosedSparesTheNewcomer: Cancel and the
// reactor's Close close a Serve server's listening socket on its loop,
// without Close. If that left the file, it would be stale: a new server on
// the name unlinks it and binds its own, which may get the freed inode
// number (ext4 and tmpfs reuse it at once, as here), and the old server's
// Close, checking that number, would remove the newcomer's file. So the
// name goes with the socket, and the old Close removes nothing.
func TestServeCloseAfterItsListenerClosedSparesTheNewcomer(t *testing.T) {
	for _, tc := range []struct {
		name string
		// stop closes old's listener without Close, and returns once its
		// loop has done so.
		stop func(t *testing.T, r *reactor.Reactor, old *localipc.Server)
	}{
		{"Cancel", func(t *testing.T, r *reactor.Reactor, old *localipc.Server) {
			require.NoError(t, old.Cancel())
			// Cancel posted the close to the one loop, which runs its tasks
			// in order.
			require.NoError(t, r.Loops()[0].Call(func() {}))
		}},
		{"reactor Close", func(t *testing.T, r *reactor.Reactor, _ *localipc.Server) {
			require.NoError(t, r.Close()) // returns once the Shutdown events ran
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noFDLeak(t)
			skipWithoutCallbackFace(t)
			r, err := reactor.New(reactor.WithLoops(1))
			require.NoError(t, err)
			t.Cleanup(func() { r.Close() })
			name := uniqueName(t)
			old, err := localipc.Serve(name, 0, &funcHandler{}, localipc.WithReactor(r))
			require.NoError(t, err)
			path := old.Addr().String()
			oldIno := statT(t, path).Ino

			tc.stop(t, r, old)
			_, err = os.Lstat(path)
			assert.ErrorIs(t, err, os.ErrNotExist, "the name went with the listening socket")

			newcomer, err := localipc.Listen(name, 0)
			require.NoError(t, err, "Listen on the name of a server whose listener is closed")
			t.Cleanup(func() { newcomer.Close() })
			t.Logf("inode %d, the newcomer's %d", oldIno, statT(t, path).Ino)
			closeSparesTheNewcomer(t, old, newcomer, name)
		})
	}
}
