package reactor

import (
	"errors"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
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
		before := openHandles(t)
		p, err := newPoller()
		require.NoError(t, err)
		require.NoError(t, p.close())
		assert.Equal(t, before, openHandles(t))
	})
}
