//go:build windows

package localipc_test

// The named-pipe port's own tests: Listen, Dial and AcceptSession over
// \\.\pipe\IPRT-<name>, the backlog of pending instances, Dial's retry of
// ERROR_PIPE_BUSY, and Cancel and Close of a server however its instances
// stand. They run on Windows and under Wine (tooling.md §1); what Wine does
// not do as Windows does skips there, detected at run time.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// backlog is how many clients a server takes with no AcceptSession running
// (server_windows.go).
const backlog = 4

// wait bounds every wait of these tests that is not itself under test.
const wait = 10 * time.Second

// acceptAsync runs AcceptSession on another goroutine.
func acceptAsync(srv *localipc.Server) <-chan *localipc.Session {
	ch := make(chan *localipc.Session, 1)
	go func() {
		s, err := srv.AcceptSession()
		if err != nil {
			s = nil
		}
		ch <- s
	}()
	return ch
}

// dialWithin dials name, bounded by d.
func dialWithin(name string, d time.Duration) (*localipc.Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return localipc.DialContext(ctx, name, 0)
}

// roundTrip sends msg from c to s and back.
func roundTrip(t *testing.T, c, s *localipc.Session, msg string) {
	t.Helper()
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
	buf := make([]byte, len(msg))
	require.NoError(t, s.ReadFull(buf))
	require.Equal(t, msg, string(buf))
	_, err = s.Write(buf)
	require.NoError(t, err)
	require.NoError(t, c.ReadFull(buf))
	require.Equal(t, msg, string(buf))
}

func TestWindowsListenDialReadWrite(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	path, err := localipc.Path(name, 0)
	require.NoError(t, err)
	assert.Equal(t, `\\.\pipe\IPRT-`+name, path)
	assert.Equal(t, path, srv.Addr().String())

	accepted := acceptAsync(srv)
	c, err := dialWithin(name, wait)
	require.NoError(t, err)
	defer c.Close()
	s := within(t, accepted, wait, "AcceptSession")
	require.NotNil(t, s)
	defer s.Close()

	roundTrip(t, c, s, "hello, pipe")

	// ReadNB and WaitForData as IPRT's: ErrTryAgain and ErrTimeout when
	// empty, at once for a zero timeout, never early otherwise.
	buf := make([]byte, 16)
	_, err = s.ReadNB(buf)
	expect(t, err, localipc.ErrTryAgain, ipcerr.VINF_TRY_AGAIN, "ReadNB, empty")
	expect(t, s.WaitForData(0), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "WaitForData(0), empty")
	start := time.Now()
	expect(t, s.WaitForData(30*time.Millisecond), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "WaitForData(30ms), empty")
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "WaitForData returned early")

	waited := async(func() error { return s.WaitForData(localipc.Infinite) })
	time.Sleep(20 * time.Millisecond)
	_, err = c.Write([]byte("abc"))
	require.NoError(t, err)
	require.NoError(t, within(t, waited, wait, "WaitForData"))
	n, err := s.ReadNB(buf)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(buf[:n]), "ReadNB reads what has arrived")

	// Each end sees the other's process, and the same user.
	for _, end := range []*localipc.Session{c, s} {
		pid, err := end.PeerPID()
		require.NoError(t, err)
		assert.Equal(t, os.Getpid(), pid)
		assert.NoError(t, end.VerifySameUser())
		_, err = end.PeerUID()
		expect(t, err, localipc.ErrNotSupported, ipcerr.VERR_NOT_SUPPORTED, "PeerUID")
	}
	expect(t, s.CloseWrite(), localipc.ErrNotSupported, ipcerr.VERR_NOT_SUPPORTED, "CloseWrite: a byte-mode pipe has no half-close")

	// The client leaves: what it sent first is still read, then the end.
	_, err = c.Write([]byte("bye"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, s.WaitForData(wait))
	require.NoError(t, s.ReadFull(buf[:3]))
	assert.Equal(t, "bye", string(buf[:3]))
	expect(t, s.WaitForData(wait), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "WaitForData after the peer left")
	_, err = s.Write([]byte("x"))
	expect(t, err, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "Write after the peer left")
}

// TestWindowsBacklog: a burst of clients connects while no AcceptSession
// runs, and each is accepted once one does; none sees ERROR_PIPE_BUSY.
func TestWindowsBacklog(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	var clients []*localipc.Session
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := 0; i < backlog; i++ {
		// Well below Dial's first retry: the instance was waiting.
		c, err := dialWithin(name, time.Second)
		require.NoError(t, err, "client %d of the backlog", i)
		clients = append(clients, c)
	}
	// More clients than instances: they retry ERROR_PIPE_BUSY until the
	// accepts below re-arm the instances.
	const more = 12
	extra := make(chan *localipc.Session, more)
	var wg sync.WaitGroup
	for i := 0; i < more; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialWithin(name, wait)
			if assert.NoError(t, err, "a client beyond the backlog") {
				extra <- c
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // they are busy-waiting now
	for i := 0; i < backlog+more; i++ {
		s, err := srv.AcceptSession()
		require.NoError(t, err)
		defer s.Close()
		_, err = s.Write([]byte{1})
		require.NoError(t, err)
	}
	wg.Wait()
	close(extra)
	for c := range extra {
		clients = append(clients, c)
	}
	require.Len(t, clients, backlog+more)
	for i, c := range clients {
		b := make([]byte, 1)
		require.NoError(t, c.ReadFull(b), "client %d was accepted", i)
	}
}

// TestWindowsDialRetriesPipeBusy: with every instance taken, Dial waits for
// one (ERROR_PIPE_BUSY is retried) until its context ends.
func TestWindowsDialRetriesPipeBusy(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	for i := 0; i < backlog; i++ {
		c, err := dialWithin(name, time.Second)
		require.NoError(t, err)
		defer c.Close()
	}
	start := time.Now()
	_, err := dialWithin(name, 100*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "Dial gave up early")
	expect(t, err, localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "Dial with every instance busy")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = localipc.DialContext(ctx, name, 0)
	expect(t, err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "Dial with a cancelled context")
	assert.ErrorIs(t, err, context.Canceled)

	late := async(func() error {
		c, err := dialWithin(name, wait)
		if err == nil {
			c.Close()
		}
		return err
	})
	time.Sleep(30 * time.Millisecond)
	s, err := srv.AcceptSession() // frees an instance
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, within(t, late, wait, "the waiting Dial"))
}

func TestWindowsDialErrors(t *testing.T) {
	_, err := localipc.Dial(uniqueName(t), 0)
	expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, "Dial of no server")
	assert.ErrorIs(t, err, windows.ERROR_FILE_NOT_FOUND, "the Win32 code stays reachable")
	_, err = localipc.Dial(uniqueName(t), localipc.RestrictToUser)
	expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, "Dial of no restricted server")
}

func TestWindowsNativeName(t *testing.T) {
	noFDLeak(t)
	name := fmt.Sprintf(`\\.\pipe\localipc-native-%d-%d`, os.Getpid(), nameSeq.Add(1))
	path, err := localipc.Path(name, localipc.NativeName)
	require.NoError(t, err)
	assert.Equal(t, name, path)
	checkRoundTrip(t, name, localipc.NativeName, localipc.NativeName|localipc.AllowIdentification, "native")
}

// checkRoundTrip listens on name with flags, dials it with dialFlags, checks
// a round trip between the two ends, and returns the server; all three are
// closed at cleanup.
func checkRoundTrip(t *testing.T, name string, flags, dialFlags localipc.Flags, msg string) *localipc.Server {
	t.Helper()
	srv, err := localipc.Listen(name, flags)
	require.NoError(t, err, "Listen")
	t.Cleanup(func() { srv.Close() })
	accepted := acceptAsync(srv)
	c, err := localipc.Dial(name, dialFlags)
	require.NoError(t, err, "Dial")
	t.Cleanup(func() { c.Close() })
	s := within(t, accepted, wait, "AcceptSession")
	require.NotNil(t, s)
	t.Cleanup(func() { s.Close() })
	roundTrip(t, c, s, msg)
	return srv
}

func TestWindowsCancelAndCloseWakeAcceptSession(t *testing.T) {
	t.Run("Cancel, sticky", func(t *testing.T) {
		noFDLeak(t)
		srv, _ := listen(t, 0)
		var done []<-chan error
		for i := 0; i < 3; i++ {
			done = append(done, async(func() error { _, err := srv.AcceptSession(); return err }))
		}
		time.Sleep(30 * time.Millisecond) // all three wait
		require.NoError(t, srv.Cancel())
		for _, d := range done {
			expect(t, within(t, d, wait, "AcceptSession"), localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "woken by Cancel")
		}
		_, err := srv.AcceptSession()
		expect(t, err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "AcceptSession after Cancel")
		require.NoError(t, srv.Close())
	})
	t.Run("Close", func(t *testing.T) {
		noFDLeak(t)
		srv, err := localipc.Listen(uniqueName(t), 0)
		require.NoError(t, err)
		var done []<-chan error
		for i := 0; i < 3; i++ {
			done = append(done, async(func() error { _, err := srv.AcceptSession(); return err }))
		}
		time.Sleep(30 * time.Millisecond)
		closed := async(srv.Close)
		require.NoError(t, within(t, closed, wait, "Close"))
		for _, d := range done {
			expect(t, within(t, d, wait, "AcceptSession"), localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "woken by Close")
		}
		_, err = srv.AcceptSession()
		expect(t, err, localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "AcceptSession after Close")
		_, err = srv.Accept()
		assert.ErrorIs(t, err, net.ErrClosed, "net.Listener's Accept after Close")
	})
}

// TestWindowsCloseWithPendingInstances: Close returns at once whatever its
// instances hold (waiting connects, clients never accepted) and with no
// AcceptSession ever called (go-winio #281, #357); a client left on an
// instance sees its pipe broken.
func TestWindowsCloseWithPendingInstances(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)
	slowest := time.Duration(0)
	for i := 0; i < 200; i++ {
		srv, err := localipc.Listen(name, 0)
		require.NoError(t, err, "round %d", i)
		var c *localipc.Session
		if i%2 == 1 {
			c, err = dialWithin(name, time.Second)
			require.NoError(t, err)
		}
		start := time.Now()
		closed := async(srv.Close)
		require.NoError(t, within(t, closed, wait, "Close"))
		slowest = max(slowest, time.Since(start))
		if c != nil {
			_, err := c.Write([]byte("x"))
			expect(t, err, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "a client never accepted, after Close")
			c.Close()
		}
	}
	assert.Less(t, slowest, time.Second, "slowest Close")
	_, err := localipc.Dial(name, 0)
	expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, "the name is gone with the server")
}

// TestWindowsSecondServer: FILE_FLAG_FIRST_PIPE_INSTANCE keeps a live name
// from a second server. Wine does not enforce the flag.
func TestWindowsSecondServer(t *testing.T) {
	skipUnderWine(t, "Wine does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE (tooling.md §1, divergence 2)")
	_, name := listen(t, 0)
	_, err := localipc.Listen(name, 0)
	assert.ErrorIs(t, err, localipc.ErrAddressInUse)
	assert.ErrorIs(t, err, windows.ERROR_ACCESS_DENIED, "IPRT's VERR_ACCESS_DENIED stays reachable")
}

func TestWindowsNotSupported(t *testing.T) {
	srv, _ := listen(t, 0)
	assert.ErrorIs(t, srv.SetAccessMode(0o600), localipc.ErrNotSupported, "SetAccessMode")
	assert.ErrorIs(t, srv.GrantGroupAccess(0), localipc.ErrNotSupported, "GrantGroupAccess")
	_, err := localipc.Listen(uniqueName(t), 0, localipc.WithAccessMode(0o600))
	assert.ErrorIs(t, err, localipc.ErrNotSupported, "WithAccessMode")
	_, err = localipc.Serve(uniqueName(t), 0, &funcHandler{}, localipc.WithAccessMode(0o600))
	assert.ErrorIs(t, err, localipc.ErrNotSupported, "Serve WithAccessMode")
	assert.False(t, errors.Is(err, localipc.ErrAddressInUse))
}

// TestWindowsHTTP: a Server is a net.Listener and a Session a net.Conn on
// Windows too: net/http runs over a pipe unchanged.
func TestWindowsHTTP(t *testing.T) {
	srv, name := listen(t, 0)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s over a pipe", r.URL.Path)
	})}
	served := async(func() error { return hs.Serve(srv) })
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return localipc.DialContext(ctx, name, 0)
		},
	}}
	for i := 0; i < 3; i++ {
		resp, err := client.Get("http://localipc/x")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "hello /x over a pipe", string(body))
	}
	client.CloseIdleConnections()
	require.NoError(t, hs.Close())
	assert.ErrorIs(t, within(t, served, wait, "http.Server.Serve"), http.ErrServerClosed)
}

// TestWindowsRestrictToUser: IPRT trunk's restricted namespace, a DACL for
// the logon session, and each end's check of the other. Wine reads the logon
// id as 0:0 and enforces no DACL, so there only the name's format, and that
// both ends accept each other, are judged.
func TestWindowsRestrictToUser(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)
	path, err := localipc.Path(name, localipc.RestrictToUser)
	require.NoError(t, err)
	assert.Regexp(t, "^"+regexp.QuoteMeta(`\\.\pipe\LOCAL\IPRT-`)+"[0-9A-F]{8}-[0-9A-F]{16}-"+regexp.QuoteMeta(name)+"$", path)

	// The client finds its server in its session, running as its user.
	srv := checkRoundTrip(t, name, localipc.RestrictToUser, localipc.RestrictToUser, "restricted")
	assert.Equal(t, path, srv.Addr().String())

	_, err = localipc.Dial(name, 0)
	expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, "the portable name is not the restricted one")

	native := fmt.Sprintf(`\\.\pipe\localipc-restricted-%d-%d`, os.Getpid(), nameSeq.Add(1))
	// A native name with the user-only DACL.
	checkRoundTrip(t, native, localipc.NativeName|localipc.RestrictToUser, localipc.NativeName|localipc.RestrictToUser, "native, restricted")
}
