//go:build linux

// Access control, checked by a uid-65534 child: mode and group from Listen on, SetAccessMode, GrantGroupAccess.

package localipc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	childWorkers["dial-report"] = childDialReport
	childWorkers["dial-race"] = childDialRace
}

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

// perm shows a file's permission and special bits in octal, as chmod(1)
// takes them, so that a failed comparison reads "0600" and not 0x180.
func perm(st *syscall.Stat_t) string { return fmt.Sprintf("%#o", st.Mode&0o7777) }

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
