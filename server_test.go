//go:build linux

// These tests, like conn_test.go and interop_test.go, are Linux-only: they
// check the kernel's answers (EAGAIN from a full backlog, SO_PEERCRED, /proc)
// and count descriptors in /proc/self/fd. Other systems are cross-vetted only.

package localipc_test

// Server behaviour: names on disk (stale, live, foreign files), access
// control in force before the first client, Cancel and Close, many clients,
// descriptor exhaustion and a full backlog. Each test asserts the Go error
// and the IPRT status it maps to.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// nobody is the unprivileged identity the access tests connect as.
const nobody = 65534

func init() {
	childWorkers["dial-report"] = childDialReport
	childWorkers["dial-race"] = childDialRace
}

// ---- helpers shared by server_test.go, conn_test.go and interop_test.go ----

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

// perm shows a file's permission and special bits in octal, as chmod(1)
// takes them, so that a failed comparison reads "0600" and not 0x180.
func perm(st *syscall.Stat_t) string { return fmt.Sprintf("%#o", st.Mode&0o7777) }

func requireGone(t *testing.T, path string) {
	t.Helper()
	_, err := os.Lstat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "%s must be gone", path)
}

// nobodyBinary copies the test binary where uid 65534 can run it: go test
// builds it in a directory only root may enter.
func nobodyBinary(t *testing.T) (exe, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "localipc-nobody-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	self, err := os.Executable()
	require.NoError(t, err)
	src, err := os.Open(self)
	require.NoError(t, err)
	defer src.Close()
	exe = filepath.Join(dir, "localipc.test")
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, dst.Close())
	require.NoError(t, err)
	return exe, dir
}

// childAs prepares the copied test binary to run worker as uid/gid, with no
// supplementary groups.
func childAs(ctx context.Context, exe, dir string, uid, gid uint32, worker, name string, flags localipc.Flags) *exec.Cmd {
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Dir = dir // the package directory may be closed to uid 65534
	cmd.Env = append(os.Environ(), childEnv+"="+worker, childNameEnv+"="+name, fmt.Sprintf("%s=%d", childFlagEnv, flags))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// dialAs runs "dial-report" as uid/gid and returns the line it printed:
// "OK" after a byte exchange with the server, else "ERR <status> <errno>
// <is ErrAccessDenied>".
func dialAs(t *testing.T, uid, gid uint32, name string) string {
	t.Helper()
	exe, dir := nobodyBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := childAs(ctx, exe, dir, uid, gid, "dial-report", name, 0).Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "child stdout %q stderr %q", out, stderr)
	return strings.TrimSpace(string(out))
}

// childDialReport dials once and reports what happened on stdout. If it
// gets in, it trades one byte each way so the server sees a real client.
func childDialReport(name string, flags localipc.Flags, _ bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := localipc.DialContext(ctx, name, flags)
	if err != nil {
		var errno syscall.Errno
		errors.As(err, &errno)
		fmt.Printf("ERR %d %d %v\n", localipc.Status(err), int(errno), errors.Is(err, localipc.ErrAccessDenied))
		return nil
	}
	defer s.Close()
	if _, err := s.Write([]byte{0x42}); err != nil {
		return err
	}
	b := make([]byte, 1)
	if err := s.ReadFull(b); err != nil || b[0] != 0x43 {
		return fmt.Errorf("reply %#x, %v", b[0], err)
	}
	fmt.Println("OK")
	return nil
}

// childDialRace dials in a tight loop, bounded by count and time, and
// stops once it has been refused by a live, closed-mode server a while.
// Only "no file yet", "not listening yet" and "permission denied" are
// acceptable; getting in at all is the failure.
func childDialRace(name string, flags localipc.Flags, _ bool) error {
	fmt.Println("START")
	var enoent, refused, denied int
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 1_000_000 && denied < 200 && time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s, err := localipc.DialContext(ctx, name, flags)
		cancel()
		if err == nil {
			s.Close()
			fmt.Println("CONNECTED")
			return errors.New("connected to a server that was to be mode 0600")
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			return fmt.Errorf("attempt %d: %w", i, err)
		}
		switch errno {
		case syscall.ENOENT:
			enoent++
		case syscall.ECONNREFUSED:
			refused++
		case syscall.EACCES:
			denied++
		default:
			return fmt.Errorf("attempt %d: unexpected errno %d: %w", i, int(errno), err)
		}
	}
	fmt.Printf("ENOENT=%d ECONNREFUSED=%d EACCES=%d\n", enoent, refused, denied)
	return nil
}

// ---- names on disk ----

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

// ---- access control ----

func TestAccessModeBeforeFirstConnect(t *testing.T) {
	needRoot(t)
	cases := []struct {
		mode os.FileMode
		want string
	}{
		{0o600, fmt.Sprintf("ERR %d %d true", ipcerr.VERR_ACCESS_DENIED, int(syscall.EACCES))},
		{0o666, "OK"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%#o", c.mode), func(t *testing.T) {
			noFDLeak(t)
			srv, name := listen(t, 0, localipc.WithAccessMode(c.mode))
			st := statT(t, srv.Addr().String())
			assert.Equal(t, fmt.Sprintf("%#o", c.mode), perm(st), "mode right after Listen")

			served := async(func() error {
				if c.want != "OK" {
					return nil
				}
				s, err := srv.AcceptSession()
				if err != nil {
					return err
				}
				defer s.Close()
				if uid, err := s.PeerUID(); err != nil || uid != nobody {
					return fmt.Errorf("PeerUID %d, %v", uid, err)
				}
				b := make([]byte, 1)
				if err := s.ReadFull(b); err != nil || b[0] != 0x42 {
					return fmt.Errorf("read %#x, %v", b[0], err)
				}
				_, err = s.Write([]byte{0x43})
				return err
			})
			assert.Equal(t, c.want, dialAs(t, nobody, nobody, name))
			require.NoError(t, within(t, served, 30*time.Second, "server"))
		})
	}
}

// TestAccessModeRace dials as uid 65534 in a tight loop while Listen
// starts with WithAccessMode(0600). The umask is cleared meanwhile so that
// bind(2) makes the file 0777: a Listen that chmods after listen(2) would
// let the child in during that window.
func TestAccessModeRace(t *testing.T) {
	needRoot(t)
	noFDLeak(t)
	name := uniqueName(t)
	exe, dir := nobodyBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := childAs(ctx, exe, dir, nobody, nobody, "dial-race", name, 0)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	waited := false
	t.Cleanup(func() {
		if !waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	require.Equal(t, "START", within(t, lines, 30*time.Second, "child start"))

	old := syscall.Umask(0)
	srv, err := localipc.Listen(name, 0, localipc.WithAccessMode(0o600))
	syscall.Umask(old)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	assert.Equal(t, "0600", perm(statT(t, srv.Addr().String())))

	var out []string
	for l := range lines {
		out = append(out, l)
	}
	err = cmd.Wait()
	waited = true
	require.NoError(t, err, "child: stdout %q stderr %q", out, stderr.String())
	require.Len(t, out, 1, "child reported %q", out)
	var enoent, refused, denied int
	_, err = fmt.Sscanf(out[0], "ENOENT=%d ECONNREFUSED=%d EACCES=%d", &enoent, &refused, &denied)
	require.NoError(t, err, "child reported %q", out[0])
	t.Logf("child saw ENOENT %d, ECONNREFUSED %d, EACCES %d times", enoent, refused, denied)
	assert.Positive(t, denied, "the child must have met the live server")
}

func TestGroupAccessBeforeFirstConnect(t *testing.T) {
	needRoot(t)
	t.Run("WithGroupAccess", func(t *testing.T) {
		noFDLeak(t)
		srv, name := listen(t, 0, localipc.WithGroupAccess(nobody))
		st := statT(t, srv.Addr().String())
		assert.Equal(t, nobody, int(st.Gid), "group right after Listen")
		assert.Equal(t, 0, int(st.Uid))
		assert.Equal(t, "0660", perm(st), "mode right after Listen")

		served := async(func() error {
			s, err := srv.AcceptSession()
			if err != nil {
				return err
			}
			defer s.Close()
			if gid, err := s.PeerGID(); err != nil || gid != nobody {
				return fmt.Errorf("PeerGID %d, %v", gid, err)
			}
			b := make([]byte, 1)
			if err := s.ReadFull(b); err != nil || b[0] != 0x42 {
				return fmt.Errorf("read %#x, %v", b[0], err)
			}
			_, err = s.Write([]byte{0x43})
			return err
		})
		// A uid other than the file's owner: only the group bits let it in.
		assert.Equal(t, "OK", dialAs(t, nobody, nobody, name))
		require.NoError(t, within(t, served, 30*time.Second, "server"))
	})
	t.Run("without", func(t *testing.T) {
		noFDLeak(t)
		srv, name := listen(t, 0, localipc.WithAccessMode(0o660))
		st := statT(t, srv.Addr().String())
		assert.Equal(t, 0, int(st.Gid))
		assert.Equal(t, "0660", perm(st))
		assert.Equal(t, fmt.Sprintf("ERR %d %d true", ipcerr.VERR_ACCESS_DENIED, int(syscall.EACCES)), dialAs(t, nobody, nobody, name))
	})
}

func TestSetAccessModeAndGrantGroupAccess(t *testing.T) {
	needRoot(t)
	noFDLeak(t)
	srv, _ := listen(t, 0)
	path := srv.Addr().String()
	for _, c := range []struct {
		mode os.FileMode
		want string
	}{
		{0o4755, "0755"}, // IPRT's fMode & 0777: the raw setuid bit goes
		{os.ModeSetuid | os.ModeSetgid | os.ModeSticky | 0o755, "0755"},
		{0o600, "0600"},
		{0o666, "0666"},
	} {
		expect(t, srv.SetAccessMode(c.mode), nil, ipcerr.VINF_SUCCESS, fmt.Sprintf("SetAccessMode(%v)", c.mode))
		st := statT(t, path)
		assert.Equal(t, c.want, perm(st), "SetAccessMode(%v)", c.mode)
		assert.Equal(t, uint32(syscall.S_IFSOCK), st.Mode&syscall.S_IFMT)
	}
	expect(t, srv.GrantGroupAccess(nobody), nil, ipcerr.VINF_SUCCESS, "GrantGroupAccess")
	st := statT(t, path)
	assert.Equal(t, nobody, int(st.Gid))
	assert.Equal(t, "0660", perm(st))
}

// TestAccessCallsTouchOnlyTheServersOwnSocket: SetAccessMode and
// GrantGroupAccess act on the path, so once the server's file is gone
// whatever took its place gets the new mode and group: another server's
// socket, or through a symlink any file root can reach (/tmp is
// world-writable; fs.protected_symlinks is 0 here). Close already checks
// the inode; these should too, and report the socket as gone the way a
// missing file is reported today (ErrNotFound, VERR_FILE_NOT_FOUND).
func TestAccessCallsTouchOnlyTheServersOwnSocket(t *testing.T) {
	needRoot(t)
	calls := []struct {
		name string
		call func(*localipc.Server) error
	}{
		{"SetAccessMode", func(s *localipc.Server) error { return s.SetAccessMode(0o666) }},
		{"GrantGroupAccess", func(s *localipc.Server) error { return s.GrantGroupAccess(nobody) }},
	}
	for _, c := range calls {
		t.Run(c.name+"/symlink to a file", func(t *testing.T) {
			noFDLeak(t)
			srv, _ := listen(t, 0)
			path := srv.Addr().String()
			victim := filepath.Join(t.TempDir(), "victim")
			require.NoError(t, os.WriteFile(victim, []byte("secret"), 0o600))
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.Symlink(victim, path))
			t.Cleanup(func() { os.Remove(path) })

			err := c.call(srv)
			expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, c.name+" with a symlink in place of the socket")
			st := statT(t, victim)
			assert.Equal(t, "0600", perm(st), "the symlink's target keeps its mode")
			assert.Equal(t, 0, int(st.Gid), "the symlink's target keeps its group")
		})
		t.Run(c.name+"/another server's socket", func(t *testing.T) {
			noFDLeak(t)
			a, name := listen(t, 0)
			path := a.Addr().String()
			require.NoError(t, os.Remove(path))
			b, err := localipc.Listen(name, 0, localipc.WithAccessMode(0o600))
			require.NoError(t, err)
			t.Cleanup(func() { b.Close() })

			err = c.call(a)
			expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, c.name+" after another server took the name")
			st := statT(t, path)
			assert.Equal(t, "0600", perm(st), "B's socket keeps its mode")
			assert.Equal(t, 0, int(st.Gid), "B's socket keeps its group")
		})
	}
}

// ---- Cancel and Close ----

func TestServerCancelIsSticky(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	path := srv.Addr().String()
	client, before := connect(t, srv, name, 0)

	blocked := acceptAsync(t, srv)
	waitParked(t, "localipc.(*Server).AcceptSession", 1, "IO wait")
	expect(t, srv.Cancel(), nil, ipcerr.VINF_SUCCESS, "Cancel")
	r := within(t, blocked, 10*time.Second, "the blocked AcceptSession")
	expect(t, r.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "blocked AcceptSession after Cancel")
	assert.Nil(t, r.s)

	// A client waiting in the backlog changes nothing: cancelled is final.
	dialT(t, name, 0)
	for i := 0; i < 3; i++ {
		start := time.Now()
		r := within(t, acceptAsync(t, srv), 10*time.Second, "AcceptSession after Cancel")
		expect(t, r.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, fmt.Sprintf("AcceptSession #%d after Cancel", i))
		assert.Less(t, time.Since(start), time.Second, "at once")
	}
	expect(t, srv.Cancel(), nil, ipcerr.VINF_SUCCESS, "second Cancel")

	exchange(t, client, before, "session accepted before Cancel")
	expect(t, srv.Close(), nil, ipcerr.VINF_SUCCESS, "Close after Cancel")
	requireGone(t, path)
}

func TestServerCloseWakesAccepts(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	path := srv.Addr().String()
	client, before := connect(t, srv, name, 0)

	pendingSession := acceptAsync(t, srv)
	pendingConn := async(func() error {
		c, err := srv.Accept()
		if c != nil {
			c.Close()
		}
		return err
	})
	// One waits in the poller, the other for the listener's read lock.
	waitParked(t, "localipc.(*Server).AcceptSession", 2, "IO wait", "semacquire")
	expect(t, srv.Close(), nil, ipcerr.VINF_SUCCESS, "Close")

	r := within(t, pendingSession, 10*time.Second, "pending AcceptSession")
	expect(t, r.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "AcceptSession woken by Close")
	err := within(t, pendingConn, 10*time.Second, "pending Accept")
	assert.ErrorIs(t, err, net.ErrClosed, "Accept woken by Close (net/http's end of Serve)")
	assert.Equal(t, ipcerr.VERR_INVALID_HANDLE, localipc.Status(err))
	requireGone(t, path)

	_, err = srv.AcceptSession()
	expect(t, err, localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "AcceptSession after Close")
	_, err = srv.Accept()
	expect(t, err, net.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Accept after Close")
	expect(t, srv.Cancel(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Cancel after Close")
	expect(t, srv.SetAccessMode(0o600), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "SetAccessMode after Close")
	expect(t, srv.GrantGroupAccess(nobody), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "GrantGroupAccess after Close")
	expect(t, srv.Close(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "second Close")

	exchange(t, client, before, "session accepted before Close")
}

func TestServerCloseRemovesOnlyItsOwnFile(t *testing.T) {
	noFDLeak(t)
	a, name := listen(t, 0)
	path := a.Addr().String()
	require.NoError(t, os.Remove(path))

	b, err := localipc.Listen(name, 0)
	require.NoError(t, err, "Listen after A's file was removed")
	t.Cleanup(func() { b.Close() })
	bIno := statT(t, path).Ino

	expect(t, a.Close(), nil, ipcerr.VINF_SUCCESS, "A.Close")
	assert.Equal(t, bIno, statT(t, path).Ino, "B's file survives A.Close")

	client, server := connect(t, b, name, 0)
	exchange(t, client, server, "B after A.Close")
	require.NoError(t, b.Close())
	requireGone(t, path)
}

// ---- names ----

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

// ---- load and resources ----

func TestManyClientsAtOnce(t *testing.T) {
	noFDLeak(t)
	const clients = 500
	const msgLen = len("client-00000-000")
	srv, name := listen(t, 0)

	var mu sync.Mutex
	seen := map[string]int{}
	var echoes sync.WaitGroup
	accepted := async(func() int {
		n := 0
		for {
			s, err := srv.AcceptSession() // one at a time: the backlog absorbs the rest
			if err != nil {
				return n
			}
			n++
			echoes.Add(1)
			go func() {
				defer echoes.Done()
				defer s.Close()
				msg := make([]byte, msgLen)
				if err := s.ReadFull(msg); err != nil {
					t.Errorf("server read: %v", err)
					return
				}
				mu.Lock()
				seen[string(msg)]++
				mu.Unlock()
				if _, err := s.Write(msg); err != nil {
					t.Errorf("server write: %v", err)
				}
			}()
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			errs <- func() error {
				s, err := localipc.DialContext(ctx, name, 0)
				if err != nil {
					return fmt.Errorf("client %d: dial: %w", i, err)
				}
				defer s.Close()
				msg := []byte(fmt.Sprintf("client-%05d-%03d", i, i%251))
				if _, err := s.Write(msg); err != nil {
					return fmt.Errorf("client %d: write: %w", i, err)
				}
				got := make([]byte, len(msg))
				if err := s.ReadFull(got); err != nil {
					return fmt.Errorf("client %d: read: %w", i, err)
				}
				if !bytes.Equal(msg, got) {
					return fmt.Errorf("client %d: got %q, sent %q", i, got, msg)
				}
				return nil
			}()
		}()
	}
	for range clients {
		assert.NoError(t, within(t, errs, 30*time.Second, "clients"))
	}
	require.NoError(t, srv.Cancel())
	assert.Equal(t, clients, within(t, accepted, 10*time.Second, "accept loop"), "sessions accepted")
	within(t, async(func() bool { echoes.Wait(); return true }), 10*time.Second, "echo goroutines")
	assert.Len(t, seen, clients, "distinct payloads")
	for msg, n := range seen {
		assert.Equal(t, 1, n, "payload %q", msg)
	}
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

func TestAcceptOutOfDescriptors(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	// The client's connection waits in the backlog; accepting it needs a
	// descriptor.
	client := dialT(t, name, 0)

	release := exhaustFDs(t)

	r := within(t, acceptAsync(t, srv), 10*time.Second, "AcceptSession without descriptors")
	assert.Nil(t, r.s)
	assert.ErrorIs(t, r.err, syscall.EMFILE)
	assert.Equal(t, ipcerr.VERR_TOO_MANY_OPEN_FILES, localipc.Status(r.err))

	release()
	r = within(t, acceptAsync(t, srv), 10*time.Second, "AcceptSession with descriptors back")
	require.NoError(t, r.err)
	exchange(t, client, r.s, "the client that waited")
}

// TestDialWaitsWhileBacklogFull uses a raw listener with listen(fd, 1):
// localipc's own backlog is somaxconn, far too deep to fill in a test.
func TestDialWaitsWhileBacklogFull(t *testing.T) {
	noFDLeak(t)
	path := filepath.Join(t.TempDir(), "full.sock")
	var fds []int
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	lfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	fds = append(fds, lfd)
	sa := &unix.SockaddrUnix{Name: path}
	require.NoError(t, unix.Bind(lfd, sa))
	require.NoError(t, unix.Listen(lfd, 1))

	queued := 0
	for full := false; !full; {
		cfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		fds = append(fds, cfd)
		switch err := unix.Connect(cfd, sa); err {
		case nil:
			queued++
			require.Less(t, queued, 64, "the backlog never filled")
		case unix.EAGAIN:
			full = true
		default:
			require.NoError(t, err, "raw connect")
		}
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res := within(t, async(func() error {
		s, err := localipc.DialContext(ctx, path, localipc.NativeName)
		s.Close()
		return err
	}), 10*time.Second, "DialContext against a full backlog")
	elapsed := time.Since(start)
	assert.ErrorIs(t, res, context.DeadlineExceeded)
	expect(t, res, localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "DialContext against a full backlog")
	assert.NotErrorIs(t, res, localipc.ErrTryAgain)
	assert.GreaterOrEqual(t, elapsed, 200*time.Millisecond, "not before the deadline")

	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	dialed := async(func() acceptResult {
		s, err := localipc.DialContext(ctx2, path, localipc.NativeName)
		return acceptResult{s, err}
	})
	// It must be waiting for room, not done or failed, before room is made.
	waitParked(t, "localipc/internal/sock.dial", 1, "select")
	nfd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	require.NoError(t, err)
	fds = append(fds, nfd)
	d := within(t, dialed, 10*time.Second, "the waiting DialContext")
	require.NoError(t, d.err, "DialContext once there is room")
	t.Cleanup(func() { d.s.Close() })

	// The queue is FIFO: the rest of the fillers, then our session.
	for range queued {
		nfd, _, err = unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		require.NoError(t, err)
		fds = append(fds, nfd)
	}
	msg := []byte("room at last")
	_, err = d.s.Write(msg)
	require.NoError(t, err)
	got := make([]byte, 64)
	n, _, err := unix.Recvfrom(nfd, got, unix.MSG_DONTWAIT)
	require.NoError(t, err)
	assert.Equal(t, msg, got[:n])
}
