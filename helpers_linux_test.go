// Helpers for the Linux-only tests of this package, shared across their files.

// Like the tests that use them, these are Linux-only: the tests check the
// kernel's answers (EAGAIN from a full backlog, SO_PEERCRED, /proc) and count
// descriptors in /proc/self/fd. Other systems are cross-vetted only.

package localipc_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// nobody is the unprivileged identity the access tests connect as.
const nobody = 65534

// needTool returns the path of an external program the test needs. A
// developer machine without it skips; CI (CI set) must have it, so it fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s not found (CI installs it): %v", name, err)
		}
		t.Fatalf("%s not found, and CI must run this test: %v", name, err)
	}
	return path
}

// needRoot guards the tests that act as another user or give a file to
// another group. CI runs as root; elsewhere they skip.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "" {
			t.Skip("needs root (CI runs as root)")
		}
		t.Fatal("CI must run as root for this test")
	}
}

// exchange sends distinct bytes each way and checks they arrive exactly.
func exchange(t *testing.T, a, b *localipc.Session, tag string) {
	t.Helper()
	for _, dir := range []struct {
		from, to *localipc.Session
		msg      string
	}{{a, b, tag + " ->"}, {b, a, tag + " <-"}} {
		n, err := dir.from.Write([]byte(dir.msg))
		require.NoError(t, err, dir.msg)
		require.Equal(t, len(dir.msg), n, dir.msg)
		got := make([]byte, len(dir.msg))
		done := async(func() error { return dir.to.ReadFull(got) })
		require.NoError(t, within(t, done, 10*time.Second, "read "+dir.msg), dir.msg)
		require.Equal(t, dir.msg, string(got))
	}
}

type acceptResult struct {
	s   *localipc.Session
	err error
}

// acceptAsync runs one AcceptSession; a session it returns is closed at
// cleanup even if the test never collects it.
func acceptAsync(t *testing.T, srv *localipc.Server) <-chan acceptResult {
	t.Helper()
	ch := make(chan acceptResult, 1)
	var mu sync.Mutex
	var got *localipc.Session
	t.Cleanup(func() { mu.Lock(); got.Close(); mu.Unlock() })
	go func() {
		s, err := srv.AcceptSession()
		mu.Lock()
		got = s
		mu.Unlock()
		ch <- acceptResult{s, err}
	}()
	return ch
}

// dialT dials name, bounded by 10 s, and closes the session at cleanup.
func dialT(t *testing.T, name string, flags localipc.Flags) *localipc.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := localipc.DialContext(ctx, name, flags)
	require.NoError(t, err, "dial %q", name)
	t.Cleanup(func() { s.Close() })
	return s
}

// connect dials name and accepts the session on srv: a connected pair.
func connect(t *testing.T, srv *localipc.Server, name string, flags localipc.Flags) (client, server *localipc.Session) {
	t.Helper()
	accepted := acceptAsync(t, srv)
	client = dialT(t, name, flags)
	r := within(t, accepted, 10*time.Second, "accept")
	require.NoError(t, r.err, "accept")
	return client, r.s
}

// waitParked waits until n goroutines whose stacks contain fn are blocked
// in one of states (as the runtime prints them: "IO wait", "select",
// "semacquire"). Nothing signals "this goroutine is now asleep", so the
// goroutine dump is polled; without this a test of "wakes a blocked call"
// could pass with a call that never blocked.
func waitParked(t *testing.T, fn string, n int, states ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		count := 0
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			for _, state := range states {
				if strings.Contains(header, "["+state) && strings.Contains(g, fn) {
					count++
					break
				}
			}
		}
		if count >= n {
			return
		}
		if time.Now().After(deadline) {
			require.FailNowf(t, "goroutines not parked", "%d goroutine(s) in %s blocked in %q, want %d", count, fn, states, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// statT returns the raw stat of path, without following a symlink.
func statT(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Lstat(path, &st), "lstat %s", path)
	return &st
}

func requireGone(t *testing.T, path string) {
	t.Helper()
	_, err := os.Lstat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "%s must be gone", path)
}

// exhaustFDs leaves the process no descriptor to open: it lowers the soft
// RLIMIT_NOFILE a little above what is open, then takes every number left
// below it, so that the next accept(2) fails with EMFILE for certain. The
// returned release (also run at cleanup) gives everything back.
func exhaustFDs(t *testing.T) (release func()) {
	t.Helper()
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	var fillers []int
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		for _, fd := range fillers {
			unix.Close(fd)
		}
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	}
	t.Cleanup(release)

	low := lim
	low.Cur = uint64(openFDs(t) + 4)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EMFILE {
			return release
		}
		if err != nil || len(fillers) >= 1000 {
			release()
			require.NoError(t, err)
			require.FailNowf(t, "no EMFILE", "no EMFILE below a soft limit of %d", low.Cur)
		}
		fillers = append(fillers, fd)
	}
}

// pair returns a connected client and server session, closed at cleanup.
func pair(t testing.TB) (client, server *localipc.Session) {
	t.Helper()
	srv, name := listen(t, 0)
	accepted := make(chan *localipc.Session, 1)
	go func() {
		s, err := srv.AcceptSession()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- s
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := localipc.DialContext(ctx, name, 0)
	require.NoError(t, err)
	server = within(t, accepted, 10*time.Second, "accept")
	require.NotNil(t, server)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
