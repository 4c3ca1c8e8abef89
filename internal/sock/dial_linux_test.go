package sock

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestDialErrors(t *testing.T) {
	cases := []struct {
		name     string
		make     func(t *testing.T, path string)
		sentinel error
		errno    syscall.Errno
		status   int
	}{
		{"missing", func(*testing.T, string) {}, ipcerr.ErrNotFound, syscall.ENOENT, -102},
		{"stale", makeStale, ipcerr.ErrConnectionRefused, syscall.ECONNREFUSED, -461},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkFDs(t)
			path := filepath.Join(t.TempDir(), "s")
			tc.make(t, path)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			fd, err := Dial(ctx, path)
			assert.Equal(t, -1, fd)
			require.ErrorIs(t, err, tc.sentinel)
			assert.ErrorIs(t, err, tc.errno)
			var errno syscall.Errno
			require.ErrorAs(t, err, &errno)
			assert.Equal(t, tc.errno, errno)
			assert.Equal(t, tc.status, ipcerr.Status(err))
			assert.Equal(t, "localipc: dial "+path+": "+tc.errno.Error(), err.Error())
		})
	}
}

func TestDialFullBacklogTimesOut(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	fillBacklog(t, path)

	const timeout = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	fd, err := Dial(ctx, path)
	elapsed := time.Since(start)

	assert.Equal(t, -1, fd)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, ipcerr.ErrTimeout)
	assert.Equal(t, -40, ipcerr.Status(err))
	assert.GreaterOrEqual(t, elapsed, timeout, "waited like a blocking connect")
	assert.Less(t, elapsed, 2*time.Second)
}

func TestDialFullBacklogCancelled(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	fillBacklog(t, path)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := dial(ctx, path, cancel)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, ipcerr.ErrCancelled)
		assert.NotErrorIs(t, err, ipcerr.ErrTimeout)
		assert.Equal(t, -70, ipcerr.Status(err))
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not see its context cancelled")
	}
}

func TestDialContextAlreadyDone(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	lfd, _ := listenT(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Dial(ctx, path)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ipcerr.ErrCancelled)
	_, err = Accept(lfd)
	assert.Equal(t, unix.EAGAIN, err, "no connection was made")
}

// A Dial that meets a full queue connects once the server makes room.
func TestDialWaitsForRoom(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	lfd, queued := fillBacklog(t, path)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	busy := make(chan struct{})
	var once sync.Once
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		fd, err := dial(ctx, path, func() { once.Do(func() { close(busy) }) })
		done <- result{fd, err}
	}()
	select {
	case <-busy:
	case r := <-done:
		t.Fatalf("Dial returned before finding the queue full: %v", r.err)
	case <-time.After(5 * time.Second):
		t.Fatal("Dial never found the queue full")
	}

	var last int
	for range queued + 1 {
		last = acceptT(t, lfd)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not return after the server made room")
	}
	require.NoError(t, r.err)
	closeLater(t, r.fd)

	// The last connection accepted is the waiting Dial's.
	_, err := Send(r.fd, []byte("late"))
	require.NoError(t, err)
	assert.Equal(t, []byte("late"), readT(t, last, 4))
}

func TestDialNameErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Dial(ctx, "")
	assert.ErrorIs(t, err, ipcerr.ErrInvalidName)
	_, err = Dial(ctx, "/tmp/"+strings.Repeat("x", 200))
	assert.ErrorIs(t, err, ipcerr.ErrNameTooLong)
	assert.Equal(t, -120, ipcerr.Status(err))
}
