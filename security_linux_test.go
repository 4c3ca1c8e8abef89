//go:build linux

// Security against another user: files of another uid at the socket path,
// the peer check against a uid-65534 client, no descriptor inherited by a
// child process. listen_test.go covers the caller's own foreign files,
// name_unix_test.go RestrictToUser's directories, access_test.go the modes.

package localipc_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func init() {
	childWorkers["peer-probe"] = childPeerProbe
	childWorkers["list-fds"] = childListFDs
}

// fileState is what must not change about a file that is not ours.
type fileState struct {
	Ino, Uid, Gid uint32
	Mode          uint32
	Ctim          unix.Timespec
	Link          string
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(path, &st), "lstat %s", path)
	link, _ := os.Readlink(path)
	return fileState{uint32(st.Ino), st.Uid, st.Gid, st.Mode, st.Ctim, link}
}

// nobodySocket makes a socket file owned by uid 65534 at path: live (a
// listener this test closes at cleanup) or stale (its listener gone).
func nobodySocket(t *testing.T, path string, live bool) *net.UnixListener {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	l.SetUnlinkOnClose(false)
	t.Cleanup(func() { l.Close(); os.Remove(path) })
	require.NoError(t, os.Lchown(path, nobody, nobody))
	if !live {
		require.NoError(t, l.Close())
	}
	return l
}

// nobodySymlink makes a symlink owned by uid 65534 at path.
func nobodySymlink(t *testing.T, target, path string) {
	t.Helper()
	require.NoError(t, os.Symlink(target, path))
	require.NoError(t, os.Lchown(path, nobody, nobody))
}

// TestListenLeavesOtherUsersFilesAlone: with another user's file at the
// socket path (a live socket, a symlink to another user's live or stale
// socket, a dangling symlink, a directory), Listen and Serve fail with
// VERR_NET_ADDRESS_IN_USE and change nothing: neither the file nor what a
// symlink points to is removed, replaced or followed, and the other user's
// live server still takes clients.
func TestListenLeavesOtherUsersFilesAlone(t *testing.T) {
	needRoot(t)
	cases := []struct {
		name string
		make func(t *testing.T, path, elsewhere string) (live *net.UnixListener, target string)
	}{
		{"another user's live socket", func(t *testing.T, path, _ string) (*net.UnixListener, string) {
			return nobodySocket(t, path, true), ""
		}},
		{"symlink to another user's live socket", func(t *testing.T, path, elsewhere string) (*net.UnixListener, string) {
			l := nobodySocket(t, elsewhere, true)
			nobodySymlink(t, elsewhere, path)
			return l, elsewhere
		}},
		{"symlink to another user's stale socket", func(t *testing.T, path, elsewhere string) (*net.UnixListener, string) {
			nobodySocket(t, elsewhere, false)
			nobodySymlink(t, elsewhere, path)
			return nil, elsewhere
		}},
		{"another user's dangling symlink", func(t *testing.T, path, elsewhere string) (*net.UnixListener, string) {
			nobodySymlink(t, elsewhere, path)
			return nil, ""
		}},
		{"another user's directory", func(t *testing.T, path, _ string) (*net.UnixListener, string) {
			require.NoError(t, os.Mkdir(path, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(path, "inside"), []byte("x"), 0o644))
			require.NoError(t, os.Chown(path, nobody, nobody))
			return nil, ""
		}},
	}
	for _, c := range cases {
		for _, face := range []string{"Listen", "Serve"} {
			t.Run(c.name+"/"+face, func(t *testing.T) {
				noFDLeak(t)
				name := uniqueName(t)
				path, err := localipc.Path(name, 0)
				require.NoError(t, err)
				t.Cleanup(func() { os.RemoveAll(path) })
				elsewhere := filepath.Join(t.TempDir(), "s")
				live, target := c.make(t, path, elsewhere)
				before := stateOf(t, path)
				var targetBefore fileState
				if target != "" {
					targetBefore = stateOf(t, target)
				}

				var srv *localipc.Server
				if face == "Listen" {
					srv, err = localipc.Listen(name, 0)
				} else {
					srv, err = localipc.Serve(name, 0, &funcHandler{}, localipc.WithReactor(newReactor(t)))
				}
				expect(t, err, localipc.ErrAddressInUse, ipcerr.VERR_NET_ADDRESS_IN_USE, face+" over "+c.name)
				if srv != nil {
					srv.Close()
				}

				assert.Equal(t, before, stateOf(t, path), "the file at the path")
				if target != "" {
					assert.Equal(t, targetBefore, stateOf(t, target), "what the symlink points to")
				}
				if live != nil {
					// The other user's server was not probed into uselessness.
					dialed := async(func() error {
						c, err := net.Dial("unix", path)
						if err == nil {
							c.Close()
						}
						return err
					})
					require.NoError(t, live.SetDeadline(time.Now().Add(10*time.Second)))
					conn, err := live.Accept()
					require.NoError(t, err, "the other user's server still accepts")
					conn.Close()
					require.NoError(t, within(t, dialed, 10*time.Second, "dial"))
				}
			})
		}
	}
}

// childPeerProbe dials, sends one byte and reports what its wait for an
// answer gave: "READ <status> <pid>" (the server writes nothing, so a
// session it admitted times out and one it refused ends), or "WRITE
// <status> <pid>" if the refused session ended before the byte went, or
// "DIAL <status> <pid>".
func childPeerProbe(name string, flags localipc.Flags, _ bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := localipc.DialContext(ctx, name, flags)
	if err != nil {
		fmt.Println("DIAL", localipc.Status(err), os.Getpid())
		return nil
	}
	defer s.Close()
	if _, err := s.Write([]byte{'p'}); err != nil {
		fmt.Println("WRITE", localipc.Status(err), os.Getpid())
		return nil
	}
	fmt.Println("READ", localipc.Status(s.WaitForData(5*time.Second)), os.Getpid())
	return nil
}

// peerCall is one call of a peer check.
type peerCall struct{ pid, uid, gid int }

// TestPeerCheckRefusesAnotherUID: a server open to everyone (mode 0666)
// whose peer check admits only its own uid. A client process running as
// uid 65534 connects, is seen by the check with its own pid, uid and gid,
// and is closed before AcceptSession or OnOpen sees it; a client of our
// own uid is then admitted. Both faces.
func TestPeerCheckRefusesAnotherUID(t *testing.T) {
	needRoot(t)
	exe, dir := nobodyBinary(t)
	for _, face := range []string{"Listen", "Serve"} {
		t.Run(face, func(t *testing.T) {
			noFDLeak(t)
			var mu sync.Mutex
			var calls []peerCall
			check := func(pid, uid, gid int) error {
				mu.Lock()
				calls = append(calls, peerCall{pid, uid, gid})
				mu.Unlock()
				if uid != os.Geteuid() {
					return fmt.Errorf("uid %d is not ours", uid)
				}
				return nil
			}
			opts := []localipc.Option{localipc.WithAccessMode(0o666), localipc.WithPeerCheck(check)}
			admitted := make(chan *localipc.Session, 4)
			var name string
			if face == "Listen" {
				var srv *localipc.Server
				srv, name = listen(t, 0, opts...)
				go func() {
					for {
						s, err := srv.AcceptSession()
						if err != nil {
							return
						}
						admitted <- s
					}
				}()
			} else {
				_, name = serve(t, &funcHandler{open: func(s *localipc.Session) error { admitted <- s; return nil }},
					append(opts, localipc.WithReactor(newReactor(t)))...)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := childAs(ctx, exe, dir, nobody, nobody, "peer-probe", name, 0).Output()
			require.NoError(t, err, "child: %s", out)
			var step string
			var status, pid int
			_, err = fmt.Sscanf(string(out), "%s %d %d", &step, &status, &pid)
			require.NoError(t, err, "child said %q", out)
			assert.Contains(t, []string{"READ", "WRITE"}, step, "the child connected, then its session ended")
			assert.Equal(t, ipcerr.VERR_BROKEN_PIPE, status, "the refused client's session ends at once (%s)", step)
			mu.Lock()
			assert.Equal(t, []peerCall{{pid, nobody, nobody}}, calls, "the check saw the child as the kernel recorded it")
			mu.Unlock()
			select {
			case s := <-admitted:
				s.Close()
				require.FailNow(t, "the refused client reached the application")
			default:
			}

			own := dialT(t, name, 0)
			s := within(t, admitted, 10*time.Second, "our own client admitted")
			if face == "Listen" {
				exchange(t, own, s, "own uid")
				s.Close()
			}
		})
	}
}

// childListFDs lists its open descriptors with what they are, one
// "<fd> <target>" a line, through raw system calls (the os package would
// start the runtime poller, and with it descriptors of its own).
func childListFDs(string, localipc.Flags, bool) error {
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	var names []string
	for {
		n, err := unix.ReadDirent(dir, buf)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	var out strings.Builder
	for _, name := range names {
		if name == strconv.Itoa(dir) {
			continue
		}
		target, _ := os.Readlink("/proc/self/fd/" + name)
		fmt.Fprintf(&out, "%s %s\n", name, target)
	}
	unix.Close(dir)
	_, err = unix.Write(1, []byte(out.String()))
	return err
}

// TestNoDescriptorLeaksIntoChildren: with servers of both faces open, and
// sessions of both faces on both ends, a child process (started by
// os/exec, which closes nothing itself) holds none of the descriptors they
// and the reactor opened, nor any socket, epoll or eventfd: everything
// localipc makes is close-on-exec.
func TestNoDescriptorLeaksIntoChildren(t *testing.T) {
	noFDLeak(t)
	baseline := fdTargets(t)
	r := newReactor(t)
	srv, name := listen(t, 0)
	opened := make(chan *localipc.Session, 2)
	_, serveName := serve(t, &funcHandler{open: func(s *localipc.Session) error { opened <- s; return nil }}, localipc.WithReactor(r))
	client, server := connect(t, srv, name, 0)
	exchange(t, client, server, "blocking")
	dialT(t, serveName, 0)
	within(t, opened, 10*time.Second, "the served session")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	cb, err := localipc.DialContext(ctx, serveName, 0, localipc.WithHandler(&funcHandler{}), localipc.WithReactor(r))
	cancel()
	require.NoError(t, err)
	t.Cleanup(func() { cb.Close() })
	within(t, opened, 10*time.Second, "the callback client's session")
	ours := fdTargets(t)
	for fd, target := range ours {
		if _, ok := baseline[fd]; ok && baseline[fd] == target {
			delete(ours, fd)
		}
	}
	require.Greater(t, len(ours), 8, "servers, sessions and loops opened descriptors: %v", ours)

	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=list-fds")
	out, err := cmd.Output()
	require.NoError(t, err)
	// The child may hold what its runtime opened (the cgroup files it reads
	// its CPU limit from) and what this process inherited itself; no
	// descriptor that localipc opened here, and nothing that is a socket,
	// an epoll or an eventfd.
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fd, target, _ := strings.Cut(line, " ")
		n, err := strconv.Atoi(fd)
		require.NoError(t, err, "child line %q", line)
		assert.NotEqual(t, ours[n], target, "fd %d, %s, leaked into the child", n, target)
		assert.False(t, strings.HasPrefix(target, "socket:") || strings.HasPrefix(target, "anon_inode:"),
			"fd %d of the child is %s", n, target)
	}
	t.Logf("the child's descriptors (%d of ours were open):\n%s", len(ours), out)
}

// fdTargets maps this process's descriptors to what they are.
func fdTargets(t *testing.T) map[int]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	m := map[int]string{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			m[n] = target
		}
	}
	return m
}
