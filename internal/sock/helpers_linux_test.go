package sock

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// childConnectEnv makes the test binary, re-run as a child, connect to the
// socket the variable names and print the outcome instead of running tests.
const childConnectEnv = "LOCALIPC_SOCK_CHILD_CONNECT"

// nobody is the uid and gid the child runs as, and the foreign owner and
// group used where a test needs one.
const nobody = 65534

func TestMain(m *testing.M) {
	if path := os.Getenv(childConnectEnv); path != "" {
		fmt.Println(childConnect(path))
		os.Exit(0)
	}
	// The runtime opens its poller's descriptors on first use; open them now
	// so that the per-test descriptor counts do not see them appear.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	goleak.VerifyTestMain(m)
}

func childConnect(path string) string {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "socket: " + err.Error()
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		if errno, ok := err.(unix.Errno); ok {
			return unix.ErrnoName(errno)
		}
		return err.Error()
	}
	return "OK"
}

// connectAsNobody runs a copy of the test binary as uid/gid 65534, without
// supplementary groups, to connect to path, and returns "OK" or the errno
// name it got. Root passes every permission check; this child does not.
func connectAsNobody(t *testing.T, exe, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childConnectEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.Output()
	require.NoError(t, err, "child: %s", out)
	return strings.TrimSpace(string(out))
}

// nobodyExe copies the test binary where uid 65534 can run it: go test
// builds it in a directory only we can enter.
func nobodyExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	in, err := os.Open(self)
	require.NoError(t, err)
	defer in.Close()
	exe := filepath.Join(publicDir(t), "child.test")
	out, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, out.Close())
	require.NoError(t, err)
	return exe
}

// publicDir is a temporary directory that other users may enter: t.TempDir's
// parent is private to us.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sock-public-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user")
	}
}

// checkFDs fails the test if it ends with more or fewer open descriptors
// than it started with. Call it first, so that its check runs after every
// other cleanup.
func checkFDs(t *testing.T) {
	t.Helper()
	before := countFDs(t)
	t.Cleanup(func() { assert.Equal(t, before, countFDs(t), "open descriptors") })
}

func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}

func closeLater(t *testing.T, fd int) {
	t.Cleanup(func() { unix.Close(fd) })
}

// listenT listens at path with no mode or group change and cleans up after.
func listenT(t *testing.T, path string) (int, uint64) {
	t.Helper()
	fd, ino, err := Listen(path, ListenConfig{Group: -1})
	require.NoError(t, err)
	t.Cleanup(func() {
		unix.Close(fd)
		assert.NoError(t, Unlink(path, ino))
	})
	return fd, ino
}

// pair returns both ends of a fresh connection: the dialed one and the one
// the listener accepted.
func pair(t *testing.T) (client, server int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	lfd, _ := listenT(t, path)
	client = dialT(t, path)
	server = acceptT(t, lfd)
	return client, server
}

func dialT(t *testing.T, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fd, err := Dial(ctx, path)
	require.NoError(t, err)
	closeLater(t, fd)
	return fd
}

// acceptT waits (bounded) for a connection on lfd and accepts it.
func acceptT(t *testing.T, lfd int) int {
	t.Helper()
	waitFD(t, lfd, unix.POLLIN)
	fd, err := Accept(lfd)
	require.NoError(t, err)
	closeLater(t, fd)
	return fd
}

func waitFD(t *testing.T, fd int, events int16) {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		n, err := unix.Poll(pfd, 5000)
		if err == unix.EINTR {
			continue
		}
		require.NoError(t, err)
		require.Equal(t, 1, n, "fd %d not ready within 5s", fd)
		return
	}
}

// readT reads exactly n bytes from the non-blocking fd, bounded in time.
func readT(t *testing.T, fd, n int) []byte {
	t.Helper()
	buf := make([]byte, n)
	got := 0
	for got < n {
		waitFD(t, fd, unix.POLLIN)
		m, err := unix.Read(fd, buf[got:])
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		require.NoError(t, err)
		require.NotZero(t, m, "EOF after %d of %d bytes", got, n)
		got += m
	}
	return buf
}

// makeStale leaves a socket file at path that nobody listens on, as a
// crashed server does.
func makeStale(t *testing.T, path string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	require.NoError(t, unix.Bind(fd, &unix.SockaddrUnix{Name: path}))
}

func lstatT(t *testing.T, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(path, &st))
	return st
}

// fillBacklog listens at path with the smallest queue and connects until the
// kernel says the queue is full; it returns the listener and how many
// connections wait in its queue.
func fillBacklog(t *testing.T, path string) (lfd, queued int) {
	t.Helper()
	lfd, ino, err := listen(path, ListenConfig{Group: -1}, 0, listenHooks{})
	require.NoError(t, err)
	t.Cleanup(func() {
		unix.Close(lfd)
		Unlink(path, ino)
	})
	for queued < 1000 {
		fd, err := Socket()
		require.NoError(t, err)
		err = Connect(fd, path)
		if err == unix.EAGAIN {
			unix.Close(fd)
			return lfd, queued
		}
		require.NoError(t, err)
		closeLater(t, fd)
		queued++
	}
	t.Fatal("the accept queue never filled")
	return
}
