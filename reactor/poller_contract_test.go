package reactor

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract every kernel queue keeps (poller.go), checked against this
// platform's poller over a connected pair of handles from the platform's
// test helper (contract_unix_test.go). It says nothing of how an event is
// produced, only what the loop may rely on.

func contractPoller(t *testing.T) kernelQueue {
	t.Helper()
	p, err := newPoller()
	if errors.Is(err, ipcerr.ErrNotSupported) {
		t.Skip("no poller on this platform yet")
	}
	require.NoError(t, err)
	t.Cleanup(func() { p.close() })
	return p
}

// collect waits up to d for events and returns those of tok (or h), with the
// number of wake-ups seen.
func collect(t *testing.T, p kernelQueue, h uintptr, tok token, d time.Duration) (Events, int) {
	t.Helper()
	evs := make([]event, 16)
	var got Events
	wakes := 0
	for end := time.Now().Add(d); ; {
		n, err := p.wait(evs, int(min(10*time.Millisecond, max(time.Until(end), 0))/time.Millisecond))
		require.NoError(t, err)
		for _, e := range evs[:n] {
			switch {
			case e.tok == wakeToken:
				wakes++
			case p.reportsHandles() && e.h == h, !p.reportsHandles() && e.tok == tok:
				got |= e.ev
			default:
				t.Errorf("event for a registration never made: %+v", e)
			}
		}
		if (got != 0 || wakes > 0) && n == 0 || time.Now().After(end) {
			return got, wakes
		}
	}
}

// waitWritable waits for the registration's next Writable.
func waitWritable(t *testing.T, p kernelQueue, h uintptr, tok token) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		if got, _ := collect(t, p, h, tok, 50*time.Millisecond); got&Writable != 0 {
			return
		}
	}
	t.Fatal("no Writable within 5s")
}

// readResult is what a peer's readN got.
type readResult struct {
	data []byte
	err  error
}

func TestPollerContract(t *testing.T) {
	tok := token{slot: 3, gen: 7}

	t.Run("a new registration is writable, then readable when data comes", func(t *testing.T) {
		p := contractPoller(t)
		h, peer := contractPair(t)
		require.NoError(t, p.add(h, tok))
		got, _ := collect(t, p, h, tok, time.Second)
		assert.Equal(t, Writable, got&(Writable|Readable))
		peer.write(t, []byte("x"))
		got, _ = collect(t, p, h, tok, time.Second)
		assert.NotZero(t, got&Readable, "got %v", got)
	})

	t.Run("after draining and arming, no event until new data", func(t *testing.T) {
		p := contractPoller(t)
		h, peer := contractPair(t)
		require.NoError(t, p.add(h, tok))
		peer.write(t, []byte("abc"))
		got, _ := collect(t, p, h, tok, time.Second)
		require.NotZero(t, got&Readable)
		assert.Equal(t, []byte("abc"), drain(t, h))
		require.NoError(t, p.arm(h, tok, Readable))
		got, _ = collect(t, p, h, tok, 50*time.Millisecond)
		assert.Zero(t, got&Readable, "readable again without new data: %v", got)
		peer.write(t, []byte("d"))
		got, _ = collect(t, p, h, tok, time.Second)
		assert.NotZero(t, got&Readable)
		assert.Equal(t, []byte("d"), drain(t, h))
	})

	t.Run("the peer's close is a hang-up that reads", func(t *testing.T) {
		p := contractPoller(t)
		h, peer := contractPair(t)
		require.NoError(t, p.add(h, tok))
		collect(t, p, h, tok, time.Second)
		require.NoError(t, p.arm(h, tok, Readable))
		peer.close(t)
		got, _ := collect(t, p, h, tok, time.Second)
		assert.Equal(t, HangUp|Readable, got&(HangUp|Readable), "got %v", got)
	})

	t.Run("a write goes whole, at once or by its completion", func(t *testing.T) {
		p := contractPoller(t)
		h, peer := contractPair(t)
		require.NoError(t, p.add(h, tok))
		collect(t, p, h, tok, time.Second) // the fresh registration's Writable
		// More than either kernel buffers: epoll takes part and says when
		// it has room, a completion port keeps the write pending.
		payload := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)
		read := testutil.Async(func() readResult { return peer.readN(len(payload)) })
		for sent := 0; sent < len(payload); {
			n, pending, err := p.write(h, tok, payload[sent:])
			require.NoError(t, err)
			if pending {
				_, still, err := p.written(tok)
				require.NoError(t, err)
				assert.True(t, still, "written while the write is in flight")
				_, _, err = p.write(h, tok, payload[sent:])
				assert.ErrorIs(t, err, errWriteInFlight, "a second write while one is pending")
			}
			if pending || n < len(payload)-sent {
				waitWritable(t, p, h, tok)
			}
			if pending {
				n, pending, err = p.written(tok)
				require.NoError(t, err)
				require.False(t, pending, "written after the completion")
				require.Positive(t, n)
			}
			sent += n
		}
		got := testutil.Within(t, read, 10*time.Second, "the peer to read everything")
		require.NoError(t, got.err)
		assert.Equal(t, payload, got.data)
		n, pending, err := p.written(tok)
		assert.Equal(t, []any{0, false, nil}, []any{n, pending, err}, "nothing left to report")
	})

	t.Run("wake-ups are reported once and consumed", func(t *testing.T) {
		p := contractPoller(t)
		require.NoError(t, p.wake())
		require.NoError(t, p.wake())
		_, wakes := collect(t, p, 0, tok, time.Second)
		assert.GreaterOrEqual(t, wakes, 1)
		assert.LessOrEqual(t, wakes, 2)
		_, wakes = collect(t, p, 0, tok, 30*time.Millisecond)
		assert.Zero(t, wakes, "a consumed wake-up came back")
	})

	t.Run("a wake-up before the wait is not lost", func(t *testing.T) {
		p := contractPoller(t)
		require.NoError(t, p.wake())
		evs := make([]event, 4)
		n, err := p.wait(evs, -1) // would block forever if it were lost
		require.NoError(t, err)
		require.Equal(t, 1, n)
		assert.Equal(t, wakeToken, evs[0].tok)
	})

	t.Run("polling an idle queue returns at once", func(t *testing.T) {
		p := contractPoller(t)
		start := time.Now()
		n, err := p.wait(make([]event, 4), 0)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Less(t, time.Since(start), 100*time.Millisecond)
	})

	t.Run("no events after del", func(t *testing.T) {
		p := contractPoller(t)
		h, peer := contractPair(t)
		require.NoError(t, p.add(h, tok))
		draining, err := p.del(h, tok)
		require.NoError(t, err)
		peer.write(t, []byte("late"))
		got, _ := collect(t, p, h, tok, 50*time.Millisecond)
		if draining {
			assert.Equal(t, released, got&released, "a draining registration is released")
			got &^= released
		}
		assert.Zero(t, got, "events after del")
	})

	t.Run("a pollable descriptor is readable while events wait", func(t *testing.T) {
		p := contractPoller(t)
		fd, ok := p.pollable()
		if !ok {
			t.Skip("this kernel queue has no pollable descriptor")
		}
		assert.False(t, readableWithin(t, fd, 0), "idle queue readable")
		require.NoError(t, p.wake())
		assert.True(t, readableWithin(t, fd, time.Second))
	})

	t.Run("close releases every descriptor the poller opened", func(t *testing.T) {
		before := pollerHandles(t)
		p, err := newPoller()
		require.NoError(t, err)
		require.NoError(t, p.close())
		assert.Equal(t, before, pollerHandles(t))
	})
}
