//go:build linux

// Names through Listen, Dial and Path on a real socket: sun_path length, invalid names, native names.

package localipc_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNameLength(t *testing.T) {
	noFDLeak(t)
	// sun_path is 108 bytes on Linux and the path keeps its NUL.
	const longest = 108 - 1 - len("/tmp/.iprt-localipc-")
	base := uniqueName(t)
	require.Less(t, len(base), longest)
	name := base + strings.Repeat("x", longest-len(base))

	path, err := localipc.Path(name, 0)
	require.NoError(t, err)
	assert.Equal(t, "/tmp/.iprt-localipc-"+name, path)
	assert.Len(t, path, 107)
	srv, err := localipc.Listen(name, 0)
	require.NoError(t, err, "the longest name")
	t.Cleanup(func() { srv.Close() })
	client, server := connect(t, srv, name, 0)
	exchange(t, client, server, "longest name")

	tooLong := name + "y"
	_, err = localipc.Path(tooLong, 0)
	expect(t, err, localipc.ErrNameTooLong, ipcerr.VERR_FILENAME_TOO_LONG, "Path, one byte too long")
	s, err := localipc.Listen(tooLong, 0)
	expect(t, err, localipc.ErrNameTooLong, ipcerr.VERR_FILENAME_TOO_LONG, "Listen, one byte too long")
	assert.Nil(t, s)
	c, err := localipc.Dial(tooLong, 0)
	expect(t, err, localipc.ErrNameTooLong, ipcerr.VERR_FILENAME_TOO_LONG, "Dial, one byte too long")
	assert.Nil(t, c)
	requireGone(t, "/tmp/.iprt-localipc-"+tooLong)
}

func TestInvalidNames(t *testing.T) {
	noFDLeak(t)
	for _, name := range []string{"", "a/b", "a\\b", "\x01", "é", "tab\there", "del\x7f"} {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			s, err := localipc.Listen(name, 0)
			expect(t, err, localipc.ErrInvalidName, ipcerr.VERR_INVALID_NAME, "Listen")
			assert.Nil(t, s)
			c, err := localipc.Dial(name, 0)
			expect(t, err, localipc.ErrInvalidName, ipcerr.VERR_INVALID_NAME, "Dial")
			assert.Nil(t, c)
			_, err = localipc.Path(name, 0)
			expect(t, err, localipc.ErrInvalidName, ipcerr.VERR_INVALID_NAME, "Path")
		})
	}
}

func TestNativeNameAbsolutePath(t *testing.T) {
	noFDLeak(t)
	path := filepath.Join(t.TempDir(), "native.sock")
	srv, err := localipc.Listen(path, localipc.NativeName)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	assert.Equal(t, path, srv.Addr().String())
	assert.Equal(t, uint32(syscall.S_IFSOCK), statT(t, path).Mode&syscall.S_IFMT)

	client, server := connect(t, srv, path, localipc.NativeName)
	exchange(t, client, server, "native path")
	require.NoError(t, srv.Close())
	requireGone(t, path)
}

// TestNativeNameAtIsAFile: IPRT passes a native name to the kernel as a
// file name, so "@x" is a file in the working directory. Go's own net and
// x/sys would make it Linux's abstract socket "x".
func TestNativeNameAtIsAFile(t *testing.T) {
	noFDLeak(t)
	dir := t.TempDir()
	t.Chdir(dir)
	name := "@" + uniqueName(t)

	srv, err := localipc.Listen(name, localipc.NativeName)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	fi, err := os.Lstat(filepath.Join(dir, name))
	require.NoError(t, err, "a file named %q in the working directory", name)
	assert.Equal(t, os.ModeSocket, fi.Mode().Type())

	// Nothing listens in the abstract namespace under that name.
	_, err = net.Dial("unix", name)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "abstract %q must not exist", name)
	unixTable, err := os.ReadFile("/proc/net/unix")
	require.NoError(t, err)
	for _, line := range strings.Split(string(unixTable), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			assert.NotEqual(t, name, fields[len(fields)-1], "abstract socket in /proc/net/unix")
		}
	}

	client, server := connect(t, srv, name, localipc.NativeName)
	exchange(t, client, server, "@ native name")
	require.NoError(t, srv.Close())
	requireGone(t, filepath.Join(dir, name))
}

// TestNativeNameAtLongest: a native name is a path and must fit sun_path
// with its NUL. One that starts with '@' reaches the kernel as "./@...", so
// that x/sys does not make it abstract: it has two bytes fewer (105 on
// Linux, where IPRT takes 107), and Path, Listen and Dial agree on that.
func TestNativeNameAtLongest(t *testing.T) {
	noFDLeak(t)
	t.Chdir(t.TempDir())
	base := "@" + uniqueName(t)
	name := base + strings.Repeat("x", 105-len(base))

	path, err := localipc.Path(name, localipc.NativeName)
	require.NoError(t, err, "Path of a 105-byte native name starting with '@'")
	assert.Equal(t, name, path)
	for _, longer := range []string{name + "x", name + "xx"} {
		_, err = localipc.Path(longer, localipc.NativeName)
		expect(t, err, localipc.ErrNameTooLong, ipcerr.VERR_FILENAME_TOO_LONG, "Path of a longer '@' name")
		_, err = localipc.Listen(longer, localipc.NativeName)
		expect(t, err, localipc.ErrNameTooLong, ipcerr.VERR_FILENAME_TOO_LONG, "Listen on a longer '@' name")
		_, err = localipc.Dial(longer, localipc.NativeName)
		expect(t, err, localipc.ErrNameTooLong, ipcerr.VERR_FILENAME_TOO_LONG, "Dial of a longer '@' name")
	}

	srv, err := localipc.Listen(name, localipc.NativeName)
	require.NoError(t, err, "Listen on the longest '@' native name that Path accepted")
	t.Cleanup(func() { srv.Close() })
	fi, err := os.Lstat(name)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket, fi.Mode().Type())
	client, server := connect(t, srv, name, localipc.NativeName)
	exchange(t, client, server, "longest @ native name")
	require.NoError(t, srv.Close())
	requireGone(t, name)
}
