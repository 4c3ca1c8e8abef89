package localipc_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillSocket writes into s without a reader until the kernel's buffers are
// full, so that the next Write blocks.
func fillSocket(t *testing.T, s *localipc.Session) {
	t.Helper()
	require.NoError(t, s.SetWriteDeadline(time.Now().Add(50*time.Millisecond)))
	chunk := make([]byte, 64<<10)
	for {
		_, err := s.Write(chunk)
		if err != nil {
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			break
		}
	}
	require.NoError(t, s.SetWriteDeadline(time.Time{}))
}

// blockedCalls are the calls that wait: each is started on a session with
// nothing to read and a full send buffer, so each really blocks.
var blockedCalls = []struct {
	name string
	call func(s *localipc.Session) error
}{
	{"Read", func(s *localipc.Session) error { _, err := s.Read(make([]byte, 8)); return err }},
	{"ReadFull", func(s *localipc.Session) error { return s.ReadFull(make([]byte, 8)) }},
	{"WaitForData(Infinite)", func(s *localipc.Session) error { return s.WaitForData(localipc.Infinite) }},
	{"WaitForData(1h)", func(s *localipc.Session) error { return s.WaitForData(time.Hour) }},
	{"Write", func(s *localipc.Session) error { _, err := s.Write(make([]byte, 1<<20)); return err }},
}

func TestCancelWakesEveryBlockedCallAndSticks(t *testing.T) {
	for _, bc := range blockedCalls {
		t.Run(bc.name, func(t *testing.T) {
			noFDLeak(t)
			client, server := pair(t)
			fillSocket(t, client)
			done := async(func() error { return bc.call(client) })
			// Nothing can finish the call but Cancel: no data comes and the
			// buffer stays full. Give it the chance to park first.
			select {
			case err := <-done:
				require.FailNow(t, "the call returned before Cancel", "%v", err)
			case <-time.After(20 * time.Millisecond):
			}
			expect(t, client.Cancel(), nil, ipcerr.VINF_SUCCESS, "Cancel")
			expect(t, within(t, done, 5*time.Second, "the blocked call"), localipc.ErrCancelled, ipcerr.VERR_CANCELLED, bc.name)

			// Sticky: data waiting makes no difference.
			_, err := server.Write([]byte("data"))
			require.NoError(t, err)
			buf := make([]byte, 4)
			for _, c := range []struct {
				name string
				err  error
			}{
				{"Read", func() error { _, err := client.Read(buf); return err }()},
				{"ReadNB", func() error { _, err := client.ReadNB(buf); return err }()},
				{"ReadFull", client.ReadFull(buf)},
				{"Write", func() error { _, err := client.Write(buf); return err }()},
				{"WaitForData(0)", client.WaitForData(0)},
				{"WaitForData(1s)", client.WaitForData(time.Second)},
				{"PeerPID", func() error { _, err := client.PeerPID(); return err }()},
				{"PeerUID", func() error { _, err := client.PeerUID(); return err }()},
				{"PeerGID", func() error { _, err := client.PeerGID(); return err }()},
				{"VerifySameUser", client.VerifySameUser()},
				{"SetDeadline", client.SetDeadline(time.Now().Add(time.Hour))},
				{"SetReadDeadline", client.SetReadDeadline(time.Time{})},
			} {
				expect(t, c.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, c.name+" after Cancel")
			}
			expect(t, client.Flush(), nil, ipcerr.VINF_SUCCESS, "Flush after Cancel")
			assert.EqualValues(t, 2, client.Retain())
			assert.EqualValues(t, 1, client.Release())
			expect(t, client.Cancel(), nil, ipcerr.VINF_SUCCESS, "second Cancel")
			expect(t, client.Close(), nil, ipcerr.VINF_SUCCESS, "Close")
		})
	}
}

func TestCloseDuringBlockedCall(t *testing.T) {
	for _, bc := range blockedCalls {
		t.Run(bc.name, func(t *testing.T) {
			noFDLeak(t)
			client, _ := pair(t)
			fillSocket(t, client)
			done := async(func() error { return bc.call(client) })
			select {
			case err := <-done:
				require.FailNow(t, "the call returned before Close", "%v", err)
			case <-time.After(20 * time.Millisecond):
			}
			expect(t, client.Close(), nil, ipcerr.VINF_SUCCESS, "Close")
			// IPRT: the reader of a closed session wakes with VERR_CANCELLED;
			// net.Conn code expects net.ErrClosed: the error is both.
			err := within(t, done, 5*time.Second, "the blocked call")
			expect(t, err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, bc.name)
			assert.ErrorIs(t, err, net.ErrClosed)
			// Then every call finds the session gone: closed wins.
			expect(t, bc.call(client), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, bc.name+" after Close")
			expect(t, client.Close(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "second Close")
		})
	}
}

func TestReleaseOfLastReferenceDuringBlockedRead(t *testing.T) {
	noFDLeak(t)
	client, _ := pair(t)
	done := async(func() error { _, err := client.Read(make([]byte, 8)); return err })
	select {
	case err := <-done:
		require.FailNow(t, "Read returned early", "%v", err)
	case <-time.After(20 * time.Millisecond):
	}
	// Release does not cancel first (IPRT): the reader learns the session
	// is gone.
	assert.EqualValues(t, 0, client.Release())
	err := within(t, done, 5*time.Second, "the blocked Read")
	expect(t, err, localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Read")
	assert.ErrorIs(t, err, net.ErrClosed)
}

func TestRetainReleaseCounts(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	assert.EqualValues(t, 2, client.Retain())
	assert.EqualValues(t, 3, client.Retain())
	assert.EqualValues(t, 2, client.Release())
	// Close cancels and drops one reference: the session lives on for the
	// other holder, cancelled.
	expect(t, client.Close(), nil, ipcerr.VINF_SUCCESS, "Close with references left")
	_, err := client.Write([]byte("x"))
	expect(t, err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "Write by another holder")
	expect(t, client.Close(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Close twice drops nothing")
	// The peer still sees the connection: the descriptor is open.
	expect(t, server.WaitForData(0), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "peer of a cancelled session")
	assert.EqualValues(t, 0, client.Release())
	expect(t, server.WaitForData(5*time.Second), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "peer after the last Release")
	assert.EqualValues(t, uint32(math.MaxUint32), client.Release(), "Release of a destroyed session")
	assert.EqualValues(t, uint32(math.MaxUint32), client.Retain(), "Retain of a destroyed session")
	expect(t, client.Cancel(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Cancel of a destroyed session")

	var nilSession *localipc.Session
	assert.EqualValues(t, uint32(math.MaxUint32), nilSession.Retain())
	assert.EqualValues(t, 0, nilSession.Release())
}

// TestNilAndClosedSessions: every method of a nil or destroyed session
// returns ErrClosed (or its documented value) and never panics.
func TestNilAndClosedSessions(t *testing.T) {
	noFDLeak(t)
	closed, _ := pair(t)
	require.NoError(t, closed.Close())
	for _, tc := range []struct {
		name string
		s    *localipc.Session
	}{{"nil", nil}, {"closed", closed}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			buf := make([]byte, 4)
			for _, c := range []struct {
				name string
				call func() error
			}{
				{"Read", func() error { _, err := s.Read(buf); return err }},
				{"ReadFull", func() error { return s.ReadFull(buf) }},
				{"ReadNB", func() error { _, err := s.ReadNB(buf); return err }},
				{"Write", func() error { _, err := s.Write(buf); return err }},
				{"Flush", s.Flush},
				{"WaitForData", func() error { return s.WaitForData(time.Second) }},
				{"Cancel", s.Cancel},
				{"PeerPID", func() error { _, err := s.PeerPID(); return err }},
				{"PeerUID", func() error { _, err := s.PeerUID(); return err }},
				{"PeerGID", func() error { _, err := s.PeerGID(); return err }},
				{"VerifySameUser", s.VerifySameUser},
				{"SetDeadline", func() error { return s.SetDeadline(time.Now()) }},
				{"CloseWrite", s.CloseWrite},
			} {
				expect(t, c.call(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, c.name)
			}
		})
	}
	assert.NoError(t, (*localipc.Session)(nil).Close())
	expect(t, closed.Close(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "second Close")
}

func TestEndOfStream(t *testing.T) {
	t.Run("data before the hang-up is reported first", func(t *testing.T) {
		noFDLeak(t)
		client, server := pair(t)
		_, err := server.Write([]byte("abc"))
		require.NoError(t, err)
		require.NoError(t, server.Close())
		expect(t, client.WaitForData(5*time.Second), nil, ipcerr.VINF_SUCCESS, "WaitForData with data before the hang-up")
		buf := make([]byte, 8)
		n, err := client.Read(buf)
		require.NoError(t, err)
		assert.Equal(t, "abc", string(buf[:n]))
		_, err = client.Read(buf)
		assert.Equal(t, io.EOF, err, "Read returns io.EOF itself, as io.Reader wants")
		expect(t, client.WaitForData(5*time.Second), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "WaitForData after")
		_, err = client.ReadNB(buf)
		assert.Equal(t, io.EOF, err)
	})
	t.Run("short stream in ReadFull", func(t *testing.T) {
		noFDLeak(t)
		client, server := pair(t)
		_, err := server.Write([]byte("ab"))
		require.NoError(t, err)
		require.NoError(t, server.Close())
		buf := make([]byte, 4)
		expect(t, client.ReadFull(buf), io.ErrUnexpectedEOF, ipcerr.VERR_BROKEN_PIPE, "ReadFull of 4 from 2")
		assert.Equal(t, "ab", string(buf[:2]))
		expect(t, client.ReadFull(buf), io.EOF, ipcerr.VERR_BROKEN_PIPE, "ReadFull at the end")
	})
	t.Run("half-close", func(t *testing.T) {
		noFDLeak(t)
		client, server := pair(t)
		require.NoError(t, client.CloseWrite())
		_, err := server.Read(make([]byte, 1))
		assert.Equal(t, io.EOF, err, "a half-close is the end of the stream too")
		// The other direction still works.
		_, err = server.Write([]byte("reply"))
		require.NoError(t, err)
		buf := make([]byte, 5)
		require.NoError(t, client.ReadFull(buf))
		assert.Equal(t, "reply", string(buf))
	})
	t.Run("write to a closed peer", func(t *testing.T) {
		noFDLeak(t)
		client, server := pair(t)
		require.NoError(t, server.Close())
		_, err := client.Write([]byte("x"))
		expect(t, err, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "Write")
		assert.ErrorIs(t, err, syscall.EPIPE, "the errno stays reachable")
	})
}

func TestDeadlines(t *testing.T) {
	t.Run("read deadline", func(t *testing.T) {
		noFDLeak(t)
		client, _ := pair(t)
		const d = 30 * time.Millisecond
		require.NoError(t, client.SetReadDeadline(time.Now().Add(d)))
		start := time.Now()
		_, err := client.Read(make([]byte, 1))
		assert.GreaterOrEqual(t, time.Since(start), d, "never early")
		expect(t, err, os.ErrDeadlineExceeded, ipcerr.VERR_TIMEOUT, "Read past its deadline")
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.Timeout())
	})
	t.Run("write deadline reports what went", func(t *testing.T) {
		noFDLeak(t)
		client, _ := pair(t)
		big := make([]byte, 64<<20) // before the deadline: zeroing it takes a while under -race
		require.NoError(t, client.SetWriteDeadline(time.Now().Add(30*time.Millisecond)))
		n, err := client.Write(big)
		expect(t, err, os.ErrDeadlineExceeded, ipcerr.VERR_TIMEOUT, "Write past its deadline")
		assert.Greater(t, n, 0)
		assert.Less(t, n, len(big))
	})
	t.Run("a deadline moved into the past wakes a blocked read", func(t *testing.T) {
		noFDLeak(t)
		client, _ := pair(t)
		done := async(func() error { _, err := client.Read(make([]byte, 1)); return err })
		select {
		case err := <-done:
			require.FailNow(t, "Read returned early", "%v", err)
		case <-time.After(20 * time.Millisecond):
		}
		require.NoError(t, client.SetDeadline(time.Now().Add(-time.Second)))
		expect(t, within(t, done, 5*time.Second, "Read"), os.ErrDeadlineExceeded, ipcerr.VERR_TIMEOUT, "Read")
		require.NoError(t, client.SetDeadline(time.Time{}))
	})
	t.Run("WaitForData keeps its own timeout and restores the read deadline", func(t *testing.T) {
		noFDLeak(t)
		client, _ := pair(t)
		const readDeadline = 80 * time.Millisecond
		start := time.Now()
		require.NoError(t, client.SetReadDeadline(start.Add(readDeadline)))
		expect(t, client.WaitForData(10*time.Millisecond), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "WaitForData(10ms)")
		assert.GreaterOrEqual(t, time.Since(start), 10*time.Millisecond)
		_, err := client.Read(make([]byte, 1))
		expect(t, err, os.ErrDeadlineExceeded, ipcerr.VERR_TIMEOUT, "Read after WaitForData")
		assert.GreaterOrEqual(t, time.Since(start), readDeadline, "the user's deadline, not WaitForData's")
	})
	t.Run("WaitForData never returns early", func(t *testing.T) {
		noFDLeak(t)
		client, _ := pair(t)
		for _, d := range []time.Duration{time.Millisecond, 15 * time.Millisecond, 40 * time.Millisecond} {
			start := time.Now()
			expect(t, client.WaitForData(d), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, d.String())
			assert.GreaterOrEqual(t, time.Since(start), d)
		}
	})
}

func TestReadNBNeverWaitsForAnotherReader(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	done := async(func() error { _, err := client.Read(make([]byte, 1)); return err })
	select {
	case err := <-done:
		require.FailNow(t, "Read returned early", "%v", err)
	case <-time.After(20 * time.Millisecond):
	}
	_, err := client.ReadNB(make([]byte, 1))
	expect(t, err, localipc.ErrTryAgain, ipcerr.VINF_TRY_AGAIN, "ReadNB while Read holds the turn")
	_, err = server.Write([]byte{1})
	require.NoError(t, err)
	require.NoError(t, within(t, done, 5*time.Second, "Read"))
}

// TestFullDuplex: one reader and one writer on each end at once, 8 MiB each
// way, byte-exact.
func TestFullDuplex(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	const size = 8 << 20
	pattern := func(seed byte) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(i*7) ^ seed
		}
		return b
	}
	toServer, toClient := pattern(0x5a), pattern(0xa5)
	write := func(s *localipc.Session, b []byte) <-chan error {
		return async(func() error { _, err := s.Write(b); return err })
	}
	read := func(s *localipc.Session) <-chan []byte {
		return async(func() []byte {
			b := make([]byte, size)
			if err := s.ReadFull(b); err != nil {
				return nil
			}
			return b
		})
	}
	w1, w2 := write(client, toServer), write(server, toClient)
	r1, r2 := read(server), read(client)
	assert.True(t, bytes.Equal(toServer, within(t, r1, 30*time.Second, "server read")))
	assert.True(t, bytes.Equal(toClient, within(t, r2, 30*time.Second, "client read")))
	require.NoError(t, within(t, w1, 30*time.Second, "client write"))
	require.NoError(t, within(t, w2, 30*time.Second, "server write"))
}

func TestZeroLengthAndHugeBuffers(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	n, err := client.Write(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)
	n, err = client.Read([]byte{})
	assert.Zero(t, n)
	assert.NoError(t, err)
	n, err = client.ReadNB(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)
	assert.NoError(t, client.ReadFull(nil))

	huge := make([]byte, 64<<20)
	for i := range huge {
		huge[i] = byte(i >> 12)
	}
	got := async(func() []byte {
		b := make([]byte, len(huge))
		if err := server.ReadFull(b); err != nil {
			return nil
		}
		return b
	})
	n, err = client.Write(huge)
	require.NoError(t, err)
	assert.Equal(t, len(huge), n)
	assert.True(t, bytes.Equal(huge, within(t, got, 60*time.Second, "64 MiB")))
}

func TestPeerCredentials(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	for _, s := range []*localipc.Session{client, server} {
		pid, err := s.PeerPID()
		require.NoError(t, err)
		assert.Equal(t, os.Getpid(), pid)
		uid, err := s.PeerUID()
		require.NoError(t, err)
		assert.Equal(t, os.Geteuid(), uid)
		gid, err := s.PeerGID()
		require.NoError(t, err)
		assert.Equal(t, os.Getegid(), gid)
		assert.NoError(t, s.VerifySameUser())
	}
}

func init() {
	// A client that connects, says it is there, and waits to be killed.
	childWorkers["wait-to-be-killed"] = func(name string, flags localipc.Flags, _ bool) error {
		s, err := localipc.Dial(name, flags)
		if err != nil {
			return err
		}
		if _, err := s.Write([]byte{1}); err != nil {
			return err
		}
		// Read one byte of what the parent sends, slowly enough that the
		// parent's big Write is still going when it kills us.
		s.Read(make([]byte, 1))
		select {}
	}
}

func TestPeerKilledMidWrite(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	accepted := async(func() *localipc.Session { s, _ := srv.AcceptSession(); return s })
	cmd := execChild(t, "wait-to-be-killed", name)
	server := within(t, accepted, 10*time.Second, "accept")
	require.NotNil(t, server)
	defer server.Close()
	hello := make([]byte, 1)
	require.NoError(t, server.ReadFull(hello))

	big := make([]byte, 256<<20)
	wrote := async(func() error {
		n, err := server.Write(big)
		if err == nil {
			return errors.New("Write of 256 MiB to a killed peer succeeded")
		}
		if n >= len(big) {
			return errors.New("Write counted every byte although it failed")
		}
		return err
	})
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	expect(t, within(t, wrote, 30*time.Second, "Write"), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "Write to a killed peer")
}

func TestWaitForDataZeroIgnoresAPassedReadDeadline(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	_, err := server.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(-time.Second)))
	expect(t, client.WaitForData(0), nil, ipcerr.VINF_SUCCESS, "WaitForData(0) with data and a passed read deadline")
	_, err = client.Read(make([]byte, 1))
	expect(t, err, os.ErrDeadlineExceeded, ipcerr.VERR_TIMEOUT, "Read keeps the deadline")
}
