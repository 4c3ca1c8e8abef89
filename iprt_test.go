package localipc_test

// A Go port of IPRT's own testcase, tstRTLocalIpc (see the project's IPRT
// notes, §11): T1 basics, T3 connection, T5 wait-for-data, T6 data integrity
// and T7 ping-pong, each with the client once in a goroutine and once in a
// child process. Each step asserts both the Go error and the IPRT status it
// maps to.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expect checks err against the sentinel (nil for success) and its IPRT code.
func expect(t testing.TB, err, want error, status int, step string) {
	t.Helper()
	if want == nil {
		assert.NoError(t, err, step)
	} else {
		assert.ErrorIs(t, err, want, step)
	}
	assert.Equal(t, status, localipc.Status(err), step+": IPRT status")
}

func TestIPRTBasics(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)

	_, err := localipc.Listen("", 0)
	expect(t, err, localipc.ErrInvalidName, ipcerr.VERR_INVALID_NAME, "ServerCreate empty name")
	_, err = localipc.Listen(name, 1234)
	expect(t, err, localipc.ErrInvalidFlags, ipcerr.VERR_INVALID_FLAGS, "ServerCreate flags 1234")
	var nilServer *localipc.Server
	expect(t, nilServer.Cancel(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "ServerCancel(NIL)")
	expect(t, nilServer.Close(), nil, ipcerr.VINF_SUCCESS, "ServerDestroy(NIL)")

	srv, err := localipc.Listen(name, 0)
	expect(t, err, nil, ipcerr.VINF_SUCCESS, "ServerCreate")
	expect(t, srv.Cancel(), nil, ipcerr.VINF_SUCCESS, "ServerCancel without a listener")
	expect(t, srv.Close(), nil, ipcerr.VINF_SUCCESS, "ServerDestroy")

	_, err = localipc.Dial("", 0)
	expect(t, err, localipc.ErrInvalidName, ipcerr.VERR_INVALID_NAME, "SessionConnect empty name")
	_, err = localipc.Dial(name, 1234)
	expect(t, err, localipc.ErrInvalidFlags, ipcerr.VERR_INVALID_FLAGS, "SessionConnect flags 1234")
	var nilSession *localipc.Session
	expect(t, nilSession.Cancel(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "SessionCancel(NIL)")
	expect(t, nilSession.Close(), nil, ipcerr.VINF_SUCCESS, "SessionClose(NIL)")
	_, err = nilSession.PeerPID()
	expect(t, err, localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "SessionQueryProcess(NIL)")
	expect(t, nilSession.VerifySameUser(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "SessionVerifySameUser(NIL)")

	_, err = localipc.Dial(name, 0)
	expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, "SessionConnect after ServerDestroy")
}

var clientPlaces = []struct {
	name    string
	inChild bool
}{{"goroutine", false}, {"child", true}}

func TestIPRTConnection(t *testing.T) {
	for _, restricted := range []bool{false, true} {
		for _, place := range clientPlaces {
			t.Run(fmt.Sprintf("%s/restricted=%v", place.name, restricted), func(t *testing.T) {
				var flags localipc.Flags
				name := uniqueName(t)
				if restricted {
					if runtime.GOOS == "windows" {
						t.Skip("this case sets up the POSIX restricted namespace (a runtime directory, a squatter in /tmp); Windows' LOCAL\\IPRT- namespace is TestWindowsRestrictToUser's")
					}
					flags = localipc.RestrictToUser
					// As IPRT's testcase: a private runtime directory, and a
					// directory squatting on the classic path that must not
					// get in the way.
					runtimeDir := t.TempDir()
					require.NoError(t, os.Chmod(runtimeDir, 0o700))
					t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
					squatter := "/tmp/.iprt-localipc-" + name
					require.NoError(t, os.Mkdir(squatter, 0o700))
					t.Cleanup(func() { assert.NoError(t, os.Remove(squatter)) })
				}
				srv, err := localipc.Listen(name, flags)
				require.NoError(t, err)
				path, err := localipc.Path(name, flags)
				require.NoError(t, err)
				assert.Equal(t, path, srv.Addr().String())

				served := async(func() error { return serveConnection(srv, place.inChild) })
				// No wait for the listener: the client may connect before
				// AcceptSession is entered, which the backlog absorbs.
				require.NoError(t, runClient(t, place.inChild, "connection", name, flags|localipc.AllowIdentification, 30*time.Second))
				expect(t, srv.Cancel(), nil, ipcerr.VINF_SUCCESS, "ServerCancel")
				expect(t, within(t, served, 30*time.Second, "listener"), localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "listener end")
				expect(t, srv.Close(), nil, ipcerr.VINF_SUCCESS, "ServerDestroy")
				_, err = os.Lstat(path)
				assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the socket file")
			})
		}
	}
}

// serveConnection is T3's server: for each client, one byte 0x42, the same
// user, the peer's pid; until AcceptSession fails, which it returns.
func serveConnection(srv *localipc.Server, clientInChild bool) error {
	for {
		s, err := srv.AcceptSession()
		if err != nil {
			return err
		}
		if err := checkConnection(s, clientInChild); err != nil {
			s.Close()
			return err
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("SessionClose: %w", err)
		}
	}
}

func checkConnection(s *localipc.Session, clientInChild bool) error {
	b := make([]byte, 1)
	if err := s.ReadFull(b); err != nil || b[0] != 0x42 {
		return fmt.Errorf("read 0x42: got %#x, %v", b[0], err)
	}
	if err := s.VerifySameUser(); err != nil {
		return fmt.Errorf("VerifySameUser: %w", err)
	}
	pid, err := s.PeerPID()
	if err != nil {
		return fmt.Errorf("QueryProcess: %w", err)
	}
	if (pid == os.Getpid()) == clientInChild || pid <= 0 {
		return fmt.Errorf("QueryProcess: pid %d, ours %d, client in child: %v", pid, os.Getpid(), clientInChild)
	}
	if again, err := s.PeerPID(); err != nil || again != pid {
		return fmt.Errorf("QueryProcess again: %d, %v", again, err)
	}
	return nil
}

// clientConnection is T3's client (IPRT trunk's version).
func clientConnection(name string, flags localipc.Flags, inChild bool) error {
	s, err := dialStep(name, flags)
	if err != nil {
		return err
	}
	if _, err := s.Write([]byte{0x42}); err != nil {
		return fmt.Errorf("Write: %w", err)
	}
	if err := s.Flush(); err != nil {
		return fmt.Errorf("Flush: %w", err)
	}
	if err := s.VerifySameUser(); err != nil {
		return fmt.Errorf("VerifySameUser: %w", err)
	}
	want := os.Getpid()
	if inChild {
		want = os.Getppid()
	}
	for i := 0; i < 2; i++ {
		if pid, err := s.PeerPID(); err != nil || pid != want {
			return fmt.Errorf("QueryProcess: %d, %v; want %d", pid, err, want)
		}
	}
	if err := s.Cancel(); err != nil {
		return fmt.Errorf("SessionCancel: %w", err)
	}
	if err := s.VerifySameUser(); !errors.Is(err, localipc.ErrCancelled) || localipc.Status(err) != ipcerr.VERR_CANCELLED {
		return fmt.Errorf("VerifySameUser after Cancel: %v, want ErrCancelled", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("SessionClose: %w", err)
	}
	return nil
}

// runIPRTCase runs one of IPRT's client/server cases with the client in a
// goroutine and in a child process: serve handles the one session the client
// opens, and both sides must succeed within limit.
func runIPRTCase(t *testing.T, worker string, limit time.Duration, serve func(s *localipc.Session) error) {
	for _, place := range clientPlaces {
		t.Run(place.name, func(t *testing.T) {
			noFDLeak(t)
			srv, name := listen(t, 0)
			served := async(func() error {
				s, err := srv.AcceptSession()
				if err != nil {
					return err
				}
				defer s.Close()
				return serve(s)
			})
			require.NoError(t, runClient(t, place.inChild, worker, name, 0, limit))
			require.NoError(t, within(t, served, limit, "server"))
		})
	}
}

// dialStep is the client's SessionConnect, with the step named on failure.
func dialStep(name string, flags localipc.Flags) (*localipc.Session, error) {
	s, err := localipc.Dial(name, flags)
	if err != nil {
		return nil, fmt.Errorf("SessionConnect: %w", err)
	}
	return s, nil
}

func TestIPRTWaitForData(t *testing.T) {
	runIPRTCase(t, "wait", 30*time.Second, func(s *localipc.Session) error {
		if err := s.WaitForData(60 * time.Second); err != nil {
			return fmt.Errorf("WaitForData: %w", err)
		}
		buf := make([]byte, 63)
		n, err := s.ReadNB(buf)
		if err != nil || string(buf[:n]) != "disconnect" {
			return fmt.Errorf("ReadNB: %q, %v", buf[:n], err)
		}
		return nil
	})
}

// clientWait is T5's client, with IPRT's exact sequence of results.
func clientWait(name string, flags localipc.Flags, _ bool) error {
	s, err := dialStep(name, flags)
	if err != nil {
		return err
	}
	defer s.Close()
	buf := make([]byte, 4)
	step := func(what string, err, want error, status int) error {
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			return fmt.Errorf("%s: %v, want %v", what, err, want)
		}
		if got := localipc.Status(err); got != status {
			return fmt.Errorf("%s: status %d, want %d", what, got, status)
		}
		return nil
	}
	n, rnbErr := s.ReadNB(buf)
	_, readErr := s.Read(nil)
	for _, c := range []struct {
		what   string
		err    error
		want   error
		status int
	}{
		{"WaitForData(0)", s.WaitForData(0), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT},
		{"WaitForData(8ms)", s.WaitForData(8 * time.Millisecond), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT},
		{"ReadNB on an empty session", rnbErr, localipc.ErrTryAgain, ipcerr.VINF_TRY_AGAIN},
		{"zero-length Read", readErr, nil, ipcerr.VINF_SUCCESS},
	} {
		if err := step(c.what, c.err, c.want, c.status); err != nil {
			return err
		}
	}
	if n != 0 {
		return fmt.Errorf("ReadNB on an empty session read %d bytes", n)
	}
	if _, err := s.Write([]byte("disconnect")); err != nil {
		return fmt.Errorf("Write: %w", err)
	}
	checks := []struct {
		what   string
		call   func() error
		want   error
		status int
	}{
		{"WaitForData(60s) after the server closed", func() error { return s.WaitForData(60 * time.Second) }, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE},
		{"WaitForData(0) after", func() error { return s.WaitForData(0) }, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE},
		{"WaitForData(1s) after", func() error { return s.WaitForData(time.Second) }, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE},
		{"Write after", func() error { _, err := s.Write([]byte("broken")); return err }, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE},
		{"ReadFull after", func() error { return s.ReadFull(buf) }, io.EOF, ipcerr.VERR_BROKEN_PIPE},
		{"Read after", func() error { _, err := s.Read(buf); return err }, io.EOF, ipcerr.VERR_BROKEN_PIPE},
		{"ReadNB after", func() error { _, err := s.ReadNB(buf); return err }, io.EOF, ipcerr.VERR_BROKEN_PIPE},
	}
	for _, c := range checks {
		if err := step(c.what, c.call(), c.want, c.status); err != nil {
			return err
		}
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("SessionClose: %w", err)
	}
	return nil
}

// T6: data integrity. The server sends a round count, then that many
// messages, then receives as many; the client mirrors it. Messages are
// pushed with many small writes and read in random chunks, some with the
// exact form (ReadFull), some with the partial form (Read).

const maxDataMsg = 1 << 20

func TestIPRTDataIntegrity(t *testing.T) {
	skipUnderWine(t, "IPRT's round 0 sends up to a MiB in one-byte writes, each a wineserver round trip: over three minutes")
	runIPRTCase(t, "data", 3*time.Minute, func(s *localipc.Session) error {
		rounds := uint32(32 + rand.IntN(1024-32+1))
		if err := writeUint32(s, rounds); err != nil {
			return err
		}
		if err := sendMessages(s, int(rounds)); err != nil {
			return fmt.Errorf("server send: %w", err)
		}
		if err := receiveMessages(s, int(rounds)); err != nil {
			return fmt.Errorf("server receive: %w", err)
		}
		return nil
	})
}

func clientData(name string, flags localipc.Flags, _ bool) error {
	s, err := dialStep(name, flags)
	if err != nil {
		return err
	}
	defer s.Close()
	rounds, err := readUint32(s)
	if err != nil {
		return err
	}
	if rounds < 32 || rounds > 1024 {
		return fmt.Errorf("round count %d out of range", rounds)
	}
	if err := receiveMessages(s, int(rounds)); err != nil {
		return fmt.Errorf("client receive: %w", err)
	}
	if err := sendMessages(s, int(rounds)); err != nil {
		return fmt.Errorf("client send: %w", err)
	}
	return s.Close()
}

func writeUint32(s *localipc.Session, v uint32) error {
	_, err := s.Write(binary.NativeEndian.AppendUint32(nil, v))
	return err
}

func readUint32(s *localipc.Session) (uint32, error) {
	var b [4]byte
	if err := s.ReadFull(b[:]); err != nil {
		return 0, err
	}
	return binary.NativeEndian.Uint32(b[:]), nil
}

// message builds round's message of size bytes: the size, then the round
// index in every further word, the last partial word holding its leading
// bytes.
func message(round uint32, size int) []byte {
	msg := make([]byte, size)
	binary.NativeEndian.PutUint32(msg, uint32(size))
	var word [4]byte
	binary.NativeEndian.PutUint32(word[:], round)
	for off := 4; off < size; off += 4 {
		copy(msg[off:], word[:])
	}
	return msg
}

func sendMessages(s *localipc.Session, rounds int) error {
	scratch := (64 + rand.IntN(maxDataMsg-64+1) + 3) &^ 3
	for round := 0; round < rounds; round++ {
		msg := message(uint32(round), 4+rand.IntN(scratch-4+1))
		// IPRT pushes each message in writes of round+1 bytes: round 0 one
		// byte at a time.
		for off := 0; off < len(msg); {
			n := min(round+1, len(msg)-off)
			if _, err := s.Write(msg[off : off+n]); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
}

func receiveMessages(s *localipc.Session, rounds int) error {
	for round := 0; round < rounds; round++ {
		size, err := readUint32(s)
		if err != nil {
			return fmt.Errorf("round %d size: %w", round, err)
		}
		if size < 4 || size > maxDataMsg {
			return fmt.Errorf("round %d: size %d out of range", round, size)
		}
		body := make([]byte, size-4)
		for got := 0; got < len(body); {
			left := len(body) - got
			chunk := min(1+rand.IntN(left+left/4), left)
			if round%3 == 1 {
				n, err := s.Read(body[got : got+chunk])
				if err != nil {
					return fmt.Errorf("round %d partial read: %w", round, err)
				}
				if n > chunk {
					return fmt.Errorf("round %d: read %d > %d asked", round, n, chunk)
				}
				got += n
			} else {
				if err := s.ReadFull(body[got : got+chunk]); err != nil {
					return fmt.Errorf("round %d exact read: %w", round, err)
				}
				got += chunk
			}
		}
		want := message(uint32(round), int(size))[4:]
		if string(body) != string(want) {
			return fmt.Errorf("round %d: body differs from the pattern", round)
		}
	}
	return nil
}

// T7: a counter ping-pong, the server checking every reply, for a fixed time.

const (
	perfReplyBit = 0x80000000
	perfLastMsg  = 0x7fffeeee
	perfDuration = 300 * time.Millisecond // IPRT runs 2 s; this is a check, not a benchmark
)

func TestIPRTPingPong(t *testing.T) {
	runIPRTCase(t, "perf", 30*time.Second, func(s *localipc.Session) error {
		start := time.Now()
		var counter uint32
		for ; ; counter++ {
			if counter&(1<<14) == 0 && time.Since(start) > perfDuration {
				break
			}
			if err := writeUint32(s, counter); err != nil {
				return err
			}
			reply, err := readUint32(s)
			if err != nil {
				return err
			}
			if reply != counter|perfReplyBit {
				return fmt.Errorf("reply %#x to %#x", reply, counter)
			}
		}
		t.Logf("%d round trips in %v: %.0f/s", counter, time.Since(start), float64(counter)/time.Since(start).Seconds())
		return writeUint32(s, perfLastMsg)
	})
}

func clientPerf(name string, flags localipc.Flags, _ bool) error {
	s, err := dialStep(name, flags)
	if err != nil {
		return err
	}
	defer s.Close()
	for expected := uint32(0); ; expected++ {
		v, err := readUint32(s)
		if err != nil {
			return err
		}
		switch v {
		case expected:
			if err := writeUint32(s, v|perfReplyBit); err != nil {
				return err
			}
		case perfLastMsg:
			return s.Close()
		default:
			return fmt.Errorf("got %#x, expected %#x", v, expected)
		}
	}
}
