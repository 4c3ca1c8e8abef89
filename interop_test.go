//go:build linux

package localipc_test

// Interop with a peer not written in Go: python3 scripts that follow IPRT's
// naming on their own (testdata/iprt_*.py build /tmp/.iprt-localipc-<name>
// from the name, never from a path Go hands them), as client and as server,
// byte-exact both ways.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interopSize is 1 MiB: bytes(range(256)) 4096 times, every byte value.
const interopSize = 1 << 20

func iprtPayload() []byte {
	p := make([]byte, interopSize)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// python is a running python3 script whose stdout is read line by line.
type python struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr lockedBuffer
	exited chan error
}

// lockedBuffer collects stderr from exec's copying goroutine while a
// failing assertion may already be reading it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPython runs testdata/<script> with args, bounded by limit; it is
// killed and reaped when the test ends, whatever happened.
func startPython(t *testing.T, limit time.Duration, script string, args ...string) *python {
	t.Helper()
	py := needTool(t, "python3")
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	p := &python{lines: make(chan string, 16), exited: make(chan error, 1)}
	p.cmd = exec.CommandContext(ctx, py, append([]string{"testdata/" + script}, args...)...)
	p.cmd.WaitDelay = 5 * time.Second
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.exited <- p.cmd.Wait() // after the last read, as StdoutPipe requires
	}()
	t.Cleanup(func() {
		cancel() // kills it if still running
		within(t, p.exited, 15*time.Second, "python to be reaped")
	})
	return p
}

// line returns the next line python printed.
func (p *python) line(t *testing.T, what string) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		require.True(t, ok, "python ended before %s; stderr: %s", what, p.stderr.String())
		return l
	case <-time.After(30 * time.Second):
		require.FailNow(t, "timed out waiting for python: "+what)
	}
	return ""
}

// wait returns python's exit once it has closed its stdout, and fails the
// test if it printed anything more.
func (p *python) wait(t *testing.T) error {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if ok {
				assert.Fail(t, "python printed more than expected", "%q", l)
				continue
			}
			err := within(t, p.exited, 30*time.Second, "python to exit")
			p.exited <- err // for the cleanup
			return err
		case <-timeout:
			require.FailNow(t, "timed out waiting for python to close its stdout")
		}
	}
}

func TestInteropPythonClient(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	want := iprtPayload()

	type served struct {
		pid int
		got []byte
		err error
	}
	done := async(func() served {
		s, err := srv.AcceptSession()
		if err != nil {
			return served{err: err}
		}
		defer s.Close()
		pid, err := s.PeerPID()
		if err != nil {
			return served{err: err}
		}
		// Python sends it all before reading, and the server reads it all
		// before echoing, so neither side needs a second thread.
		got := make([]byte, interopSize)
		if err := s.ReadFull(got); err != nil {
			return served{pid: pid, err: err}
		}
		_, err = s.Write(got)
		return served{pid: pid, got: got, err: err}
	})

	p := startPython(t, 60*time.Second, "iprt_client.py", name, strconv.Itoa(interopSize))
	cred := p.line(t, "PEERCRED")
	assert.Equal(t, fmt.Sprintf("PEERCRED %d %d %d", os.Getpid(), os.Geteuid(), os.Getegid()), cred,
		"python's SO_PEERCRED of our server")

	r := within(t, done, 30*time.Second, "the Go server")
	require.NoError(t, r.err)
	assert.Equal(t, p.cmd.Process.Pid, r.pid, "PeerPID is python's pid")
	require.True(t, bytes.Equal(want, r.got), "the server did not receive the pattern byte-exact")

	assert.Equal(t, fmt.Sprintf("ECHO OK %d", interopSize), p.line(t, "the echo check"))
	require.NoError(t, p.wait(t), "python stderr: %s", p.stderr.String())
}

func TestInteropPythonServer(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)
	path, err := localipc.Path(name, 0)
	require.NoError(t, err)
	want := iprtPayload()

	p := startPython(t, 60*time.Second, "iprt_server.py", name, strconv.Itoa(interopSize))
	ready := p.line(t, "READY")
	var pyPID int
	_, err = fmt.Sscanf(ready, "READY %d", &pyPID)
	require.NoError(t, err, "python said %q; stderr: %s", ready, p.stderr.String())
	assert.Equal(t, p.cmd.Process.Pid, pyPID)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := localipc.DialContext(ctx, name, 0)
	require.NoError(t, err)
	defer s.Close()
	pid, err := s.PeerPID()
	require.NoError(t, err)
	assert.Equal(t, pyPID, pid, "PeerPID is python's pid")
	uid, err := s.PeerUID()
	require.NoError(t, err)
	assert.Equal(t, os.Geteuid(), uid)

	// Python echoes as it reads, so write and read at the same time.
	sent := async(func() error { _, err := s.Write(want); return err })
	got := make([]byte, interopSize)
	require.NoError(t, within(t, async(func() error { return s.ReadFull(got) }), 30*time.Second, "the echo"))
	require.NoError(t, within(t, sent, 10*time.Second, "the write"))
	require.True(t, bytes.Equal(want, got), "the echo differs from what was sent")

	assert.Equal(t, fmt.Sprintf("DONE %d", interopSize), p.line(t, "DONE"))
	require.NoError(t, p.wait(t), "python stderr: %s", p.stderr.String())
	requireGone(t, path) // python removed the file it made, and only that

	// Python is gone: the end of the stream, in Go's words and IPRT's.
	n, err := within(t, async(func() readResult {
		n, err := s.Read(make([]byte, 16))
		return readResult{n, err}
	}), 10*time.Second, "Read after python exited").get()
	assert.Equal(t, 0, n)
	expect(t, err, io.EOF, ipcerr.VERR_BROKEN_PIPE, "Read after python exited")
	expect(t, within(t, async(func() error { return s.WaitForData(time.Second) }), 10*time.Second, "WaitForData"),
		localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "WaitForData after python exited")
	expect(t, s.WaitForData(0), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "WaitForData(0) after python exited")
	require.NoError(t, s.Close())
}

type readResult struct {
	n   int
	err error
}

func (r readResult) get() (int, error) { return r.n, r.err }
