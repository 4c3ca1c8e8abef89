//go:build linux

// Load and resources: many clients at once, accept out of descriptors, dial against a full backlog.

package localipc_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
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
