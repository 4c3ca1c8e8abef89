//go:build unix

package session_test

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fdOf is the number of the descriptor behind s.
func fdOf(t testing.TB, s *session.Session) int {
	t.Helper()
	rc, err := s.SyscallConn()
	require.NoError(t, err)
	var fd int
	require.NoError(t, rc.Control(func(f uintptr) { fd = int(f) }))
	return fd
}

// A Write sends on the descriptor's number without os.File's guard (see
// conn.closed): the last Release in the middle of writes, which unlike Close
// does not cancel first, so that writes reach the guard, must not let one
// of them send on the number once a new descriptor has it. Each round
// releases a session under two writers, opens sockets that take the freed
// numbers, and then finds nothing of the writers' in them. (A stress test:
// TestCloseWaitsForASendInFlight and TestASendAfterCloseIsRefused pin the
// two halves of the guard each.)
func TestLastReleaseDuringWritesSendsNothingOnAReusedNumber(t *testing.T) {
	noFDLeak(t)
	reused := 0
	for round := 0; round < 200; round++ {
		s, peer := pair(t)
		old := fdOf(t, s)
		// The reader keeps the socket from filling, so that writes go at once.
		drained := testutil.Async(func() error {
			buf := make([]byte, 64<<10)
			for {
				if _, err := peer.Read(buf); err != nil {
					return err
				}
			}
		})
		var writers []<-chan error
		for range 2 {
			writers = append(writers, testutil.Async(func() error {
				msg := []byte("stale bytes")
				for {
					if _, err := s.Write(msg); err != nil {
						return err
					}
				}
			}))
		}
		require.EqualValues(t, 0, s.Release())
		// The freed numbers go to new sockets at once, while the writers
		// may still be running.
		var fresh []*session.Session
		for range 2 {
			a, b := pair(t)
			fresh = append(fresh, a, b)
		}
		for _, w := range writers {
			err := testutil.Within(t, w, wait, "a writer")
			isErr(t, err, ipcerr.ErrClosed, "a Write that the last Release ended")
		}
		buf := make([]byte, 64)
		for _, f := range fresh {
			if fdOf(t, f) == old {
				reused++
			}
			n, err := f.ReadNB(buf)
			require.Truef(t, errors.Is(err, ipcerr.ErrTryAgain), "round %d: a new socket holds %q (%v)", round, buf[:n], err)
		}
		require.NoError(t, peer.Close())
		testutil.Within(t, drained, wait, "the reader")
		for _, f := range fresh {
			require.NoError(t, f.Close())
		}
	}
	// The test shows something only if the numbers were taken again.
	assert.Greater(t, reused, 0, "no round reused the closed session's number")
}

// The direct send honours the write deadline as net's Write does: a passed
// one fails a Write that the socket has room for, and sends nothing; one in
// the future, however far (past what an int64 of nanoseconds holds from
// now), lets it go; a cleared one too.
func TestTheWriteDeadlineOfASendWithRoom(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Time
		passed   bool
	}{
		{"passed", time.Now().Add(-time.Second), true},
		{"passed, without a monotonic reading", time.Now().Add(-time.Second).Round(0), true},
		{"in a minute", time.Now().Add(time.Minute), false},
		{"in a minute, without a monotonic reading", time.Now().Add(time.Minute).Round(0), false},
		{"beyond any clock", time.Now().Add(math.MaxInt64), false},
		{"cleared", time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noFDLeak(t)
			s, peer := pair(t)
			require.NoError(t, s.SetWriteDeadline(tc.deadline))
			n, err := s.Write([]byte("on time"))
			if tc.passed {
				assertDeadlineError(t, err, "Write")
				assert.Zero(t, n)
				_, err = peer.ReadNB(make([]byte, 8))
				isErr(t, err, ipcerr.ErrTryAgain, "the peer got bytes of a failed Write")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 7, n)
			got := make([]byte, 7)
			require.NoError(t, peer.ReadFull(got))
			assert.Equal(t, "on time", string(got))
		})
	}
}

// Close must wait for a direct send that is past its guard: were the
// descriptor closed meanwhile, the send would go to whatever took the
// number. The hook holds a Write inside its guarded section while Close
// runs; Close may not return before the Write is let go, and the bytes
// then reach the session's own peer.
func TestCloseWaitsForASendInFlight(t *testing.T) {
	noFDLeak(t)
	s, peer := pair(t)
	inside, release := make(chan struct{}), make(chan struct{})
	var letGo sync.Once
	// Also when the test fails: a send held in the hook holds Close.
	t.Cleanup(func() { letGo.Do(func() { close(release) }) })
	var entered sync.Once
	defer session.SetSendHook(func() {
		entered.Do(func() { close(inside) })
		<-release
	})()
	wrote := testutil.Async(func() error { _, err := s.Write([]byte("in flight")); return err })
	testutil.Within(t, inside, wait, "the Write's send")
	closed := testutil.Async(s.Close)
	// Nothing can end the wait but the send: a Close that returned here
	// would have freed the number under it.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a send was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	letGo.Do(func() { close(release) })
	require.NoError(t, testutil.Within(t, wrote, wait, "Write"))
	require.NoError(t, testutil.Within(t, closed, wait, "Close"))
	got := make([]byte, len("in flight"))
	require.NoError(t, peer.ReadFull(got))
	assert.Equal(t, "in flight", string(got))
}

// What a writer did before a Write happens before what the reader does
// after it has read those bytes: the kernel orders the two, and the race
// detector must be told so (releaseIO), as syscall.Write tells it. Without
// that, this test fails under -race, and so did gRPC's GracefulStop in
// examples/grpc, whose drain flag is published only through the socket.
func TestAWriteOrdersWhatCameBeforeItForTheReader(t *testing.T) {
	noFDLeak(t)
	s, peer := pair(t)
	published := 0
	wrote := testutil.Async(func() error {
		published = 42
		_, err := s.Write([]byte{1})
		return err
	})
	got := make([]byte, 1)
	require.NoError(t, peer.ReadFull(got))
	assert.Equal(t, 42, published)
	require.NoError(t, testutil.Within(t, wrote, wait, "Write"))
}
