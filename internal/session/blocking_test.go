package session_test

import (
	"bytes"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call is one call of the blocking face, reduced to its error.
type call struct {
	name string
	f    func(s *session.Session) error
}

var (
	readCall     = call{"Read", func(s *session.Session) error { _, err := s.Read(make([]byte, 8)); return err }}
	readFullCall = call{"ReadFull", func(s *session.Session) error { return s.ReadFull(make([]byte, 8)) }}
	writeCall    = call{"Write", func(s *session.Session) error { _, err := s.Write(make([]byte, 1<<20)); return err }}
)

func waitCall(d time.Duration) call {
	return call{"WaitForData(" + d.String() + ")", func(s *session.Session) error { return s.WaitForData(d) }}
}

// blockedCalls are sets of calls that all block on a session with nothing
// to read whose send buffer is full: one call, or a reader queued behind
// another for the turn.
var blockedCalls = []struct {
	name  string
	calls []call
}{
	{name: "Read", calls: []call{readCall}},
	{name: "ReadFull", calls: []call{readFullCall}},
	{name: "Write on a full socket", calls: []call{writeCall}},
	{name: "WaitForData(infinite)", calls: []call{waitCall(infinite)}},
	{name: "WaitForData(1h)", calls: []call{waitCall(time.Hour)}},
	{name: "a second Read queued behind a Read", calls: []call{readCall, readCall}},
	// The WaitForData gets the reader's turn after Close and must still
	// report net.ErrClosed beside ErrCancelled.
	{name: "WaitForData queued behind ReadFull", calls: []call{readFullCall, waitCall(infinite)}},
	{name: "Read and Write at once", calls: []call{readCall, writeCall}},
}

// startBlocked starts calls on s, each on its own goroutine, and returns
// once all of them are asleep.
func startBlocked(t *testing.T, s *session.Session, calls []call) []<-chan error {
	t.Helper()
	fill(t, s)
	done := make([]<-chan error, len(calls))
	for i, c := range calls {
		done[i] = testutil.Async(func() error { return c.f(s) })
		// One at a time, so that the order of the queue is the table's.
		blockedIn(t, i+1)
	}
	return done
}

func TestCancelWakesEveryBlockedCallAndSticks(t *testing.T) {
	for _, bc := range blockedCalls {
		t.Run(bc.name, func(t *testing.T) {
			noFDLeak(t)
			s, peer := pair(t)
			done := startBlocked(t, s, bc.calls)
			require.NoError(t, s.Cancel())
			for i, c := range bc.calls {
				isErr(t, testutil.Within(t, done[i], wait, c.name), ipcerr.ErrCancelled, c.name)
			}

			// Sticky, with data waiting and room to write.
			_, err := peer.Write([]byte("data"))
			require.NoError(t, err)
			require.NoError(t, peer.ReadFull(make([]byte, 64<<10)))
			buf := make([]byte, 4)
			for _, c := range []struct {
				name string
				err  error
			}{
				{"Read", func() error { _, err := s.Read(buf); return err }()},
				{"ReadNB", func() error { _, err := s.ReadNB(buf); return err }()},
				{"ReadFull", s.ReadFull(buf)},
				{"Write", func() error { _, err := s.Write(buf); return err }()},
				{"WaitForData(0)", s.WaitForData(0)},
				{"WaitForData(1s)", s.WaitForData(time.Second)},
				{"PeerPID", func() error { _, err := s.PeerPID(); return err }()},
				{"PeerUID", func() error { _, err := s.PeerUID(); return err }()},
				{"PeerGID", func() error { _, err := s.PeerGID(); return err }()},
				{"VerifySameUser", s.VerifySameUser()},
				{"SetDeadline", s.SetDeadline(time.Now().Add(time.Hour))},
				{"SetReadDeadline", s.SetReadDeadline(time.Time{})},
				{"SetWriteDeadline", s.SetWriteDeadline(time.Time{})},
				{"CloseWrite", s.CloseWrite()},
				{"SyscallConn", func() error { _, err := s.SyscallConn(); return err }()},
			} {
				isErr(t, c.err, ipcerr.ErrCancelled, c.name+" after Cancel")
				assert.NotErrorIs(t, c.err, ipcerr.ErrClosed, c.name+" after Cancel")
			}
			assert.NoError(t, s.Flush(), "Flush after Cancel")
			assert.EqualValues(t, 2, s.Retain(), "Retain after Cancel")
			assert.EqualValues(t, 1, s.Release(), "Release after Cancel")
			assert.NoError(t, s.Cancel(), "second Cancel")
			assert.NoError(t, s.Close(), "Close after Cancel")
		})
	}
}

func TestCloseDuringBlockedCalls(t *testing.T) {
	for _, bc := range blockedCalls {
		t.Run(bc.name, func(t *testing.T) {
			noFDLeak(t)
			s, _ := pair(t)
			done := startBlocked(t, s, bc.calls)
			require.NoError(t, s.Close())
			for i, c := range bc.calls {
				// IPRT wakes the callers of a closed session with
				// VERR_CANCELLED, net.Conn code expects net.ErrClosed: both.
				err := testutil.Within(t, done[i], wait, c.name)
				isErr(t, err, ipcerr.ErrCancelled, c.name) // and VERR_CANCELLED
				assert.ErrorIs(t, err, ipcerr.ErrClosed, c.name)
				assert.ErrorIs(t, err, net.ErrClosed, c.name)
				// Then the session is gone: closed wins over cancelled.
				err = c.f(s)
				isErr(t, err, ipcerr.ErrClosed, c.name+" after Close")
				assert.NotErrorIs(t, err, ipcerr.ErrCancelled, c.name+" after Close")
			}
			isErr(t, s.Close(), ipcerr.ErrClosed, "second Close")
		})
	}
}

func TestReleaseOfTheLastReferenceDuringABlockedRead(t *testing.T) {
	noFDLeak(t)
	s, _ := pair(t)
	done := startBlocked(t, s, []call{readCall})
	// Release does not cancel first (IPRT): the reader learns that the
	// session is gone, not that it was cancelled.
	assert.EqualValues(t, 0, s.Release())
	err := testutil.Within(t, done[0], wait, "the blocked Read")
	isErr(t, err, ipcerr.ErrClosed)
	isErr(t, err, net.ErrClosed)
	assert.NotErrorIs(t, err, ipcerr.ErrCancelled)
}

func TestRetainReleaseCounts(t *testing.T) {
	noFDLeak(t)
	s, peer := pair(t)
	assert.EqualValues(t, 2, s.Retain())
	assert.EqualValues(t, 3, s.Retain())
	assert.EqualValues(t, 2, s.Release())
	// Close cancels and drops one reference: the session lives on for the
	// other holder, cancelled.
	require.NoError(t, s.Close())
	_, err := s.Write([]byte("x"))
	isErr(t, err, ipcerr.ErrCancelled, "Write by the other holder")
	// As for the calls that Close woke: net.Conn code expects net.ErrClosed.
	assert.ErrorIs(t, err, net.ErrClosed, "Write by the other holder")
	isErr(t, s.Close(), ipcerr.ErrClosed, "a second Close drops nothing")
	isErr(t, peer.WaitForData(0), ipcerr.ErrTimeout, "the descriptor is still open")
	assert.EqualValues(t, 0, s.Release())
	isErr(t, peer.WaitForData(wait), ipcerr.ErrBrokenPipe, "the last Release closed the descriptor")

	assert.EqualValues(t, uint32(math.MaxUint32), s.Release(), "Release of a destroyed session")
	assert.EqualValues(t, uint32(math.MaxUint32), s.Retain(), "Retain of a destroyed session")
	isErr(t, s.Cancel(), ipcerr.ErrClosed, "Cancel of a destroyed session")
	var none *session.Session
	assert.EqualValues(t, uint32(math.MaxUint32), none.Retain(), "Retain of nil")
	assert.EqualValues(t, 0, none.Release(), "Release of nil")
}

// TestNilAndClosedSessions: every method of a nil or destroyed session
// returns ErrClosed (or its documented value) and never panics.
func TestNilAndClosedSessions(t *testing.T) {
	noFDLeak(t)
	closed, _ := pair(t)
	require.NoError(t, closed.Close())
	for _, tc := range []struct {
		name string
		s    *session.Session
	}{{"nil", nil}, {"closed", closed}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			buf := make([]byte, 4)
			for _, c := range []call{
				readCall, readFullCall, writeCall, waitCall(time.Second), waitCall(0),
				{"ReadNB", func(s *session.Session) error { _, err := s.ReadNB(buf); return err }},
				{"Flush", (*session.Session).Flush},
				{"Cancel", (*session.Session).Cancel},
				{"PeerPID", func(s *session.Session) error { _, err := s.PeerPID(); return err }},
				{"PeerUID", func(s *session.Session) error { _, err := s.PeerUID(); return err }},
				{"PeerGID", func(s *session.Session) error { _, err := s.PeerGID(); return err }},
				{"VerifySameUser", (*session.Session).VerifySameUser},
				{"SetDeadline", func(s *session.Session) error { return s.SetDeadline(time.Now()) }},
				{"SetReadDeadline", func(s *session.Session) error { return s.SetReadDeadline(time.Now()) }},
				{"SetWriteDeadline", func(s *session.Session) error { return s.SetWriteDeadline(time.Now()) }},
				{"CloseWrite", (*session.Session).CloseWrite},
				{"SyscallConn", func(s *session.Session) error { _, err := s.SyscallConn(); return err }},
			} {
				isErr(t, c.f(s), ipcerr.ErrClosed, c.name)
			}
			assert.EqualValues(t, uint32(math.MaxUint32), s.Retain())
		})
	}
	assert.NoError(t, (*session.Session)(nil).Close(), "Close of nil")
	isErr(t, closed.Close(), ipcerr.ErrClosed, "second Close")
}

func TestEndOfStream(t *testing.T) {
	t.Run("data sent before the hang-up comes first", func(t *testing.T) {
		noFDLeak(t)
		s, peer := pair(t)
		_, err := peer.Write([]byte("abc"))
		require.NoError(t, err)
		require.NoError(t, peer.Close())
		assert.NoError(t, s.WaitForData(wait), "WaitForData with data before the hang-up")
		buf := make([]byte, 8)
		n, err := s.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, "abc", string(buf[:n]))
		_, err = s.Read(buf)
		assert.Equal(t, io.EOF, err, "Read returns io.EOF itself, as io.Reader wants")
		_, err = s.ReadNB(buf)
		assert.Equal(t, io.EOF, err, "ReadNB")
		isErr(t, s.WaitForData(wait), ipcerr.ErrBrokenPipe, "WaitForData with nothing left")
		isErr(t, s.WaitForData(0), ipcerr.ErrBrokenPipe, "WaitForData(0) with nothing left")
	})
	t.Run("ReadFull: io.ErrUnexpectedEOF in the middle, io.EOF at the end", func(t *testing.T) {
		noFDLeak(t)
		s, peer := pair(t)
		_, err := peer.Write([]byte("ab"))
		require.NoError(t, err)
		require.NoError(t, peer.Close())
		buf := make([]byte, 4)
		assert.Equal(t, io.ErrUnexpectedEOF, s.ReadFull(buf), "ReadFull of 4 from 2")
		assert.Equal(t, "ab", string(buf[:2]))
		assert.Equal(t, io.EOF, s.ReadFull(buf), "ReadFull at the end")
	})
	t.Run("half-close", func(t *testing.T) {
		skipOnWindows(t, noHalfClose)
		noFDLeak(t)
		s, peer := pair(t)
		_, err := s.Write([]byte("last"))
		require.NoError(t, err)
		require.NoError(t, s.CloseWrite())
		got, err := io.ReadAll(peer)
		require.NoError(t, err)
		assert.Equal(t, "last", string(got), "what was sent, then the end of the stream")
		_, err = s.Write([]byte("x"))
		isErr(t, err, ipcerr.ErrBrokenPipe, "Write after CloseWrite")
		// The other direction still works.
		_, err = peer.Write([]byte("reply"))
		require.NoError(t, err)
		buf := make([]byte, 5)
		require.NoError(t, s.ReadFull(buf))
		assert.Equal(t, "reply", string(buf))
	})
	t.Run("Write to a closed peer", func(t *testing.T) {
		noFDLeak(t)
		s, peer := pair(t)
		require.NoError(t, peer.Close())
		_, err := s.Write([]byte("x"))
		isErr(t, err, ipcerr.ErrBrokenPipe, "never a SIGPIPE")
		assert.ErrorIs(t, err, writeToClosedPeer, "the errno stays reachable")
	})
}

// assertDeadlineError checks that err is what net returns past a deadline.
func assertDeadlineError(t *testing.T, err error, what string) {
	t.Helper()
	isErr(t, err, os.ErrDeadlineExceeded, what)
	var ne net.Error
	if assert.ErrorAs(t, err, &ne, what) {
		assert.True(t, ne.Timeout(), what+": Timeout()")
	}
}

func TestDeadlines(t *testing.T) {
	t.Run("read deadline, never early", func(t *testing.T) {
		noFDLeak(t)
		s, _ := pair(t)
		for _, c := range []call{
			readCall, readFullCall,
			{"ReadNB", func(s *session.Session) error { _, err := s.ReadNB(make([]byte, 1)); return err }},
		} {
			const d = 30 * time.Millisecond
			start := time.Now()
			require.NoError(t, s.SetReadDeadline(start.Add(d)))
			err := c.f(s)
			if c.name == "ReadNB" {
				// ReadNB never waits, for data or for the deadline.
				isErr(t, err, ipcerr.ErrTryAgain, c.name)
				continue
			}
			assert.GreaterOrEqual(t, time.Since(start), d, c.name+" returned early")
			assertDeadlineError(t, err, c.name)
		}
	})
	t.Run("write deadline, never early, with the count of what went", func(t *testing.T) {
		noFDLeak(t)
		s, _ := pair(t)
		big := make([]byte, 16<<20)
		const d = 30 * time.Millisecond
		start := time.Now()
		require.NoError(t, s.SetWriteDeadline(start.Add(d)))
		n, err := s.Write(big)
		assert.GreaterOrEqual(t, time.Since(start), d, "Write returned early")
		assertDeadlineError(t, err, "Write")
		assert.Greater(t, n, 0)
		assert.Less(t, n, len(big))
	})
	t.Run("a deadline moved into the past wakes a blocked Read and Write", func(t *testing.T) {
		noFDLeak(t)
		s, _ := pair(t)
		done := startBlocked(t, s, []call{readCall, writeCall})
		require.NoError(t, s.SetDeadline(time.Now().Add(-time.Second)))
		assertDeadlineError(t, testutil.Within(t, done[0], wait, "Read"), "Read")
		assertDeadlineError(t, testutil.Within(t, done[1], wait, "Write"), "Write")
		// A cleared deadline lets calls work again.
		require.NoError(t, s.SetDeadline(time.Time{}))
		isErr(t, s.WaitForData(0), ipcerr.ErrTimeout)
	})
}

func TestWaitForData(t *testing.T) {
	t.Run("timeout 0 answers at once", func(t *testing.T) {
		noFDLeak(t)
		s, peer := pair(t)
		start := time.Now()
		isErr(t, s.WaitForData(0), ipcerr.ErrTimeout, "nothing there")
		assert.Less(t, time.Since(start), time.Second)
		_, err := peer.Write([]byte("x"))
		require.NoError(t, err)
		assert.NoError(t, s.WaitForData(0), "data there")
		assert.NoError(t, s.WaitForData(0), "nothing consumed")
	})
	t.Run("timeout 0 ignores a passed read deadline", func(t *testing.T) {
		noFDLeak(t)
		s, peer := pair(t)
		_, err := peer.Write([]byte("x"))
		require.NoError(t, err)
		require.NoError(t, s.SetReadDeadline(time.Now().Add(-time.Second)))
		assert.NoError(t, s.WaitForData(0))
		_, err = s.Read(make([]byte, 1))
		assertDeadlineError(t, err, "Read keeps its deadline")
	})
	t.Run("a positive timeout is ErrTimeout, never early", func(t *testing.T) {
		noFDLeak(t)
		s, _ := pair(t)
		for _, d := range []time.Duration{time.Nanosecond, time.Millisecond, 15 * time.Millisecond, 40 * time.Millisecond} {
			start := time.Now()
			err := s.WaitForData(d)
			assert.GreaterOrEqual(t, time.Since(start), d, "%v returned early", d)
			isErr(t, err, ipcerr.ErrTimeout, d.String())
			isErr(t, err, os.ErrDeadlineExceeded, d.String())
		}
	})
	t.Run("the user's read deadline is set aside, then restored", func(t *testing.T) {
		noFDLeak(t)
		s, _ := pair(t)
		const readDeadline = 80 * time.Millisecond
		start := time.Now()
		require.NoError(t, s.SetReadDeadline(start.Add(readDeadline)))
		isErr(t, s.WaitForData(10*time.Millisecond), ipcerr.ErrTimeout, "a wait shorter than the deadline")
		isErr(t, s.WaitForData(2*readDeadline), ipcerr.ErrTimeout, "a wait longer than the deadline")
		assert.GreaterOrEqual(t, time.Since(start), 2*readDeadline, "WaitForData kept its own timeout")
		_, err := s.Read(make([]byte, 1))
		assertDeadlineError(t, err, "Read after WaitForData")
	})
	t.Run("wakes when data comes and consumes nothing", func(t *testing.T) {
		noFDLeak(t)
		s, peer := pair(t)
		done := testutil.Async(func() error { return s.WaitForData(infinite) })
		blockedIn(t, 1)
		_, err := peer.Write([]byte("z"))
		require.NoError(t, err)
		require.NoError(t, testutil.Within(t, done, wait, "WaitForData"))
		buf := make([]byte, 2)
		n, err := s.ReadNB(buf)
		require.NoError(t, err)
		assert.Equal(t, "z", string(buf[:n]))
	})
}

// WaitForData reads ahead into the session (the stash), so that it costs one
// read, not a peek and a read: every reading call must give those bytes out
// first, in order, exactly once, and as a read of the descriptor would.
func TestWaitForDataReadsAheadInvisibly(t *testing.T) {
	// More than the stash holds, so that a read crosses from the stash to
	// the kernel's buffer.
	msg := make([]byte, 3000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	readers := []struct {
		name string
		read func(s *session.Session, p []byte) (int, error)
	}{
		{"Read", func(s *session.Session, p []byte) (int, error) { return s.Read(p) }},
		{"ReadNB", func(s *session.Session, p []byte) (int, error) { return s.ReadNB(p) }},
		{"ReadFull", func(s *session.Session, p []byte) (int, error) {
			if err := s.ReadFull(p); err != nil {
				return 0, err
			}
			return len(p), nil
		}},
	}
	for _, r := range readers {
		t.Run(r.name+" takes the bytes in order, once", func(t *testing.T) {
			noFDLeak(t)
			s, peer := pair(t)
			_, err := peer.Write(msg)
			require.NoError(t, err)
			require.NoError(t, s.WaitForData(infinite))
			require.NoError(t, s.WaitForData(infinite), "a second wait finds the same bytes")
			var got []byte
			buf := make([]byte, 700) // does not divide the stash
			for len(got) < len(msg) {
				n, err := r.read(s, buf[:min(len(buf), len(msg)-len(got))])
				require.NoError(t, err, "after %d bytes", len(got))
				got = append(got, buf[:n]...)
			}
			assert.Equal(t, msg, got)
			_, err = s.ReadNB(buf)
			isErr(t, err, ipcerr.ErrTryAgain, "nothing is left")
			isErr(t, s.WaitForData(0), ipcerr.ErrTimeout, "nothing is left to wait for")
		})
	}
	t.Run("data, then the peer's end: the data first", func(t *testing.T) {
		skipOnWindows(t, noHalfClose)
		s, peer := readAhead(t, "last words")
		require.NoError(t, peer.CloseWrite())
		buf := make([]byte, 64)
		n, err := s.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, "last words", string(buf[:n]))
		isErr(t, s.WaitForData(infinite), ipcerr.ErrBrokenPipe, "then the end")
		_, err = s.Read(buf)
		assert.Equal(t, io.EOF, err)
	})
	t.Run("a passed read deadline keeps the bytes for later", func(t *testing.T) {
		s, _ := readAhead(t, "kept")
		require.NoError(t, s.SetReadDeadline(time.Now().Add(-time.Second)))
		buf := make([]byte, 8)
		for _, r := range readers[:2] {
			_, err := r.read(s, buf)
			assertDeadlineError(t, err, r.name+" past its deadline")
		}
		require.NoError(t, s.SetReadDeadline(time.Time{}))
		n, err := s.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, "kept", string(buf[:n]))
	})
	t.Run("Close with bytes read ahead", func(t *testing.T) {
		s, _ := readAhead(t, "unread")
		require.NoError(t, s.Close())
		_, err := s.Read(make([]byte, 8))
		isErr(t, err, ipcerr.ErrClosed, "a closed session gives nothing out")
	})
}

// readAhead is a pair whose peer has sent msg and whose session has waited
// for it, so that msg sits in the session's stash.
func readAhead(t *testing.T, msg string) (s, peer *session.Session) {
	noFDLeak(t)
	s, peer = pair(t)
	_, err := peer.Write([]byte(msg))
	require.NoError(t, err)
	require.NoError(t, s.WaitForData(infinite))
	return s, peer
}

func TestReadNB(t *testing.T) {
	noFDLeak(t)
	s, peer := pair(t)
	buf := make([]byte, 8)
	_, err := s.ReadNB(buf)
	isErr(t, err, ipcerr.ErrTryAgain, "nothing there")

	done := startBlocked(t, s, []call{readCall})
	_, err = s.ReadNB(buf)
	isErr(t, err, ipcerr.ErrTryAgain, "another reader holds the turn")
	_, err = peer.Write([]byte{1})
	require.NoError(t, err)
	require.NoError(t, testutil.Within(t, done[0], wait, "Read"))

	_, err = peer.Write([]byte("abc"))
	require.NoError(t, err)
	n, err := s.ReadNB(buf)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(buf[:n]))
	skipOnWindows(t, noHalfClose)
	require.NoError(t, peer.CloseWrite())
	_, err = s.ReadNB(buf)
	assert.Equal(t, io.EOF, err, "at the end of the stream")
}

func TestZeroLengthBuffers(t *testing.T) {
	noFDLeak(t)
	s, peer := pair(t)
	n, err := s.Write(nil)
	assert.Zero(t, n)
	assert.NoError(t, err, "Write")
	n, err = s.Read([]byte{})
	assert.Zero(t, n)
	assert.NoError(t, err, "Read")
	n, err = s.ReadNB(nil)
	assert.Zero(t, n)
	assert.NoError(t, err, "ReadNB")
	assert.NoError(t, s.ReadFull(nil), "ReadFull")
	isErr(t, peer.WaitForData(0), ipcerr.ErrTimeout, "nothing was sent")
}

// TestBigTransfers: one Write far larger than the kernel's buffers, and
// a reader and a writer on each end at once, byte-exact.
func TestBigTransfers(t *testing.T) {
	const size = 8 << 20
	readAll := func(s *session.Session) <-chan []byte {
		return testutil.Async(func() []byte {
			b := make([]byte, size)
			if err := s.ReadFull(b); err != nil {
				return nil
			}
			return b
		})
	}
	write := func(s *session.Session, b []byte) <-chan error {
		return testutil.Async(func() error {
			n, err := s.Write(b)
			if err == nil && n != len(b) {
				return io.ErrShortWrite
			}
			return err
		})
	}
	for _, duplex := range []bool{false, true} {
		name := map[bool]string{false: "one way", true: "both ways at once"}[duplex]
		t.Run(name, func(t *testing.T) {
			noFDLeak(t)
			a, b := pair(t)
			toB, toA := pattern(size, 0x5a), pattern(size, 0xa5)
			wrote := []<-chan error{write(a, toB)}
			gotB := readAll(b)
			if duplex {
				wrote = append(wrote, write(b, toA))
				assert.True(t, bytes.Equal(toA, testutil.Within(t, readAll(a), time.Minute, "a's read")))
			}
			assert.True(t, bytes.Equal(toB, testutil.Within(t, gotB, time.Minute, "b's read")))
			for _, w := range wrote {
				require.NoError(t, testutil.Within(t, w, time.Minute, "Write"))
			}
		})
	}
}

func TestPeerCredentialsOfASocketpair(t *testing.T) {
	noFDLeak(t)
	a, b := pair(t)
	assertOwnCredentials(t, a)
	assertOwnCredentials(t, b)
}

// assertOwnCredentials checks that s's peer is this process, as the peer
// of a socketpair is.
func assertOwnCredentials(t *testing.T, s *session.Session) {
	t.Helper()
	pid, err := s.PeerPID()
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), pid)
	if runtime.GOOS == "windows" {
		_, err := s.PeerUID()
		isErr(t, err, ipcerr.ErrNotSupported, "PeerUID")
		assert.NoError(t, s.VerifySameUser())
		skipOnWindows(t, "a Windows user is a SID, not a uid: PeerUID and PeerGID are ErrNotSupported")
	}
	uid, err := s.PeerUID()
	require.NoError(t, err)
	assert.Equal(t, os.Geteuid(), uid)
	gid, err := s.PeerGID()
	require.NoError(t, err)
	assert.Equal(t, os.Getegid(), gid)
	assert.NoError(t, s.VerifySameUser())
}

func TestValueAndAddresses(t *testing.T) {
	noFDLeak(t)
	fa, fb := socketpair(t)
	addrs := &session.Addrs{Local: &net.UnixAddr{Name: "/here", Net: "unix"}, Remote: &net.UnixAddr{Name: "/there", Net: "unix"}}
	s, err := session.New(fa, addrs)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	peer := newSession(t, fb)
	assert.Equal(t, addrs.Local, s.LocalAddr())
	assert.Equal(t, addrs.Remote, s.RemoteAddr())
	assert.Nil(t, s.Value())
	s.SetValue(42)
	assert.Equal(t, 42, s.Value())
	require.NoError(t, peer.Close())
	_, err = s.Write([]byte("x"))
	isErr(t, err, ipcerr.ErrBrokenPipe)
	assert.ErrorContains(t, err, "/there", "a broken pipe names the peer")

	var none *session.Session
	none.SetValue(1)
	assert.Nil(t, none.Value())
	assert.Nil(t, none.LocalAddr())
	assert.Nil(t, none.RemoteAddr())
	none.Abort(nil) // does nothing, as on a blocking session
	s.Abort(nil)
	assert.NoError(t, s.Flush(), "Abort is for callback sessions only")
}
