//go:build unix

package sock

import (
	"context"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// The backoff of a Dial that finds the accept queue full. Linux gives a
// non-blocking connect no wake-up for a free slot, so Dial polls; the first
// wait is short because a busy server usually frees a slot in microseconds,
// and the cap bounds both the added latency and the wasted wake-ups.
const (
	dialBackoffMin = 50 * time.Microsecond
	dialBackoffMax = 5 * time.Millisecond
)

// Dial connects a new socket to path. A full accept queue makes it wait, as a
// blocking connect would, until ctx is done; then the error matches ctx.Err()
// and ipcerr.ErrTimeout or ipcerr.ErrCancelled.
func Dial(ctx context.Context, path string) (int, error) {
	return dial(ctx, path, nil)
}

// dial is Dial with a hook called each time the queue is found full.
func dial(ctx context.Context, path string, onBusy func()) (int, error) {
	_, sa, err := sockAddr(path)
	if err != nil {
		return -1, err
	}
	if ctx.Err() != nil {
		return -1, newCtxError(path, ctx.Err())
	}
	fd, err := newSocket()
	if err != nil {
		return -1, ipcerr.OSError("socket", path, err)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for delay := dialBackoffMin; ; delay = min(2*delay, dialBackoffMax) {
		err := unix.Connect(fd, sa)
		if err == nil {
			return fd, nil
		}
		if err != unix.EAGAIN {
			unix.Close(fd)
			return -1, ipcerr.OSError("dial", path, err)
		}
		if onBusy != nil {
			onBusy()
		}
		if timer == nil {
			timer = time.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			unix.Close(fd)
			return -1, newCtxError(path, ctx.Err())
		case <-timer.C:
		}
	}
}

// ctxError is a Dial ended by its context: it matches the context's error and
// the localipc sentinel for it, so both kinds of caller find what they test.
type ctxError struct {
	path          string
	sentinel, err error
}

func newCtxError(path string, err error) error {
	sentinel := ipcerr.ErrCancelled
	if err == context.DeadlineExceeded {
		sentinel = ipcerr.ErrTimeout
	}
	return &ctxError{path: path, sentinel: sentinel, err: err}
}

func (e *ctxError) Error() string   { return "localipc: dial " + e.path + ": " + e.err.Error() }
func (e *ctxError) Unwrap() []error { return []error{e.sentinel, e.err} }
