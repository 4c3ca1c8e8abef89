//go:build windows

package localipc_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// Serve and Dial WithHandler on Windows: sessions served by the loops'
// completion ports (serve_windows.go, internal/session/callback_windows.go).

// payloadFor is client i's message: mostly 4 KiB, every tenth 200 KiB, more
// than the pipe's 64 KiB, so that the echo's writes stay pending and the
// output queue grows behind them.
func payloadFor(i int) []byte {
	n := 4 << 10
	if i%10 == 0 {
		n = 200 << 10
	}
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	p := make([]byte, n)
	for j := range p {
		p[j] = byte(rng.Uint32())
	}
	return p
}

// TestWindowsServeThousandConcurrentEchoes: 1,000 clients at once, each
// echoed byte-exact by callbacks, twice (the second round needs the next
// zero-byte read after the first), and the server runs no goroutine per
// session; each client's close ends its session with io.EOF.
func TestWindowsServeThousandConcurrentEchoes(t *testing.T) {
	const n = 1000
	r := newReactor(t)
	log := newCloseLog(t)
	srv, name := serve(t, &funcHandler{data: echo, close: log.onClose}, localipc.WithReactor(r))
	goroutinesBefore := runtime.NumGoroutine()

	var all, echoed sync.WaitGroup
	all.Add(n)
	echoed.Add(n)
	release := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		go func() {
			defer all.Done()
			err := func() error {
				c, err := dialWithin(name, time.Minute)
				if err != nil {
					echoed.Done()
					return fmt.Errorf("client %d: %w", i, err)
				}
				defer c.Close()
				for round := range 2 {
					want := payloadFor(i + round)
					// The write and the read at once: a 200 KiB echo does
					// not fit in the pipes while the client only writes.
					wrote := async(func() error { _, err := c.Write(want); return err })
					got := make([]byte, len(want))
					err = c.ReadFull(got)
					if werr := <-wrote; werr != nil {
						err = fmt.Errorf("write: %w", werr)
					}
					if err == nil && !bytes.Equal(want, got) {
						err = fmt.Errorf("the echo differs")
					}
					if err != nil {
						echoed.Done()
						return fmt.Errorf("client %d, round %d: %w", i, round, err)
					}
				}
				echoed.Done()
				<-release // hold the session until every client is done
				return nil
			}()
			if err != nil {
				errs <- err
			}
		}()
	}
	within(t, async(func() struct{} { echoed.Wait(); return struct{}{} }), time.Minute, "1,000 echoes")

	sessions := 0
	for _, st := range srv.Stats() {
		sessions += st.Sessions
	}
	assert.Equal(t, n, sessions, "every session open at once")
	// n client goroutines, each with at most one writer beside it, and
	// nothing on the server's side.
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutinesBefore+n+2, "goroutines must not grow with served sessions")
	close(release)
	all.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	log.wait(n, time.Minute)
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, err := range log.errs {
		require.Equal(t, io.EOF, err, "a session whose client closed")
	}
}

// TestWindowsServeBurstWhileTheLoopsAreBusy: 64 clients dial while every loop
// is held in a task, so that no instance is replaced: the few pending
// instances take the first ones, Dial retries ERROR_PIPE_BUSY for the rest,
// and every client is served once the loops run.
func TestWindowsServeBurstWhileTheLoopsAreBusy(t *testing.T) {
	const n = 64
	r := newReactor(t)
	_, name := serve(t, &funcHandler{data: echo}, localipc.WithReactor(r))
	hold := make(chan struct{})
	for _, l := range r.Loops() {
		require.NoError(t, l.Post(func() { <-hold }))
	}
	dialed := make(chan error, n)
	for i := range n {
		go func() {
			c, err := dialWithin(name, time.Minute)
			if err == nil {
				defer c.Close()
				msg := []byte(fmt.Sprintf("client %d", i))
				if _, err = c.Write(msg); err == nil {
					got := make([]byte, len(msg))
					if err = c.ReadFull(got); err == nil && !bytes.Equal(msg, got) {
						err = fmt.Errorf("client %d got %q", i, got)
					}
				}
			}
			dialed <- err
		}()
	}
	// Let the dials meet the busy pipe before the loops go on: they
	// retry until their contexts end, a minute from now.
	time.Sleep(100 * time.Millisecond)
	close(hold)
	for range n {
		require.NoError(t, within(t, dialed, time.Minute, "a client of the burst"))
	}
}

// TestWindowsServeCloseWithPendingInstances: Close of a Serve server whose
// instances wait for clients, with or without a client nobody served yet,
// returns at once, 1,000 times on one name: the name is free again when
// Close returns (on Windows a leftover instance would make the next first
// instance fail).
func TestWindowsServeCloseWithPendingInstances(t *testing.T) {
	r := newReactor(t)
	name := uniqueName(t)
	slowest := time.Duration(0)
	for i := 0; i < 1000; i++ {
		srv, err := localipc.Serve(name, 0, &funcHandler{}, localipc.WithReactor(r))
		require.NoError(t, err, "round %d", i)
		var c *localipc.Session
		if i%10 == 1 {
			c, err = dialWithin(name, time.Second)
			require.NoError(t, err)
		}
		start := time.Now()
		require.NoError(t, within(t, async(srv.Close), wait, "Close"))
		slowest = max(slowest, time.Since(start))
		if c != nil {
			c.Close()
		}
	}
	assert.Less(t, slowest, time.Second, "slowest Close")
	_, err := localipc.Dial(name, 0)
	expect(t, err, localipc.ErrNotFound, ipcerr.VERR_FILE_NOT_FOUND, "the name is gone with the server")
	// A loop unregisters an instance that another goroutine closed when its
	// aborted connect comes back to the port: soon, not at once.
	assert.Eventually(t, func() bool {
		n := 0
		for _, st := range r.Stats() {
			n += st.Registered
		}
		return n == 0
	}, wait, time.Millisecond, "every instance's registration goes")
}

// TestWindowsServeSessionEndsWithAWritePending: a session ended while 1 MiB
// waits in an overlapped write to a client that reads nothing, by Close
// (which lingers, then gives up) and by Abort. The client gets a prefix of
// what was sent, then the end; the reactor closes, which it does only once
// the aborted write's completion has come back.
func TestWindowsServeSessionEndsWithAWritePending(t *testing.T) {
	big := payloadFor(0)
	big = bytes.Repeat(big, 5) // 1000 KiB
	errAborted := fmt.Errorf("aborted by the test")
	for _, tc := range []struct {
		name    string
		end     func(s *localipc.Session)
		wantErr error
	}{
		{"Close, past the linger", func(s *localipc.Session) { s.Close() }, localipc.ErrTimeout},
		{"Abort", func(s *localipc.Session) { s.Abort(errAborted) }, errAborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReactor(t)
			opened := make(chan *localipc.Session, 1)
			closed := make(chan error, 1)
			_, name := serve(t, &funcHandler{
				open: func(s *localipc.Session) error {
					_, err := s.Write(big)
					opened <- s
					return err
				},
				close: func(_ *localipc.Session, err error) { closed <- err },
			}, localipc.WithReactor(r), localipc.WithLinger(50*time.Millisecond))
			c := dial(t, name)
			s := within(t, opened, wait, "OnOpen")
			// Data has come: the write has started, and 1 MiB does not fit
			// in the pipe, so it is pending.
			require.NoError(t, c.WaitForData(wait))
			tc.end(s)
			isErr(t, within(t, closed, wait, "OnClose"), tc.wantErr, "OnClose")
			got, err := io.ReadAll(c)
			require.NoError(t, err, "the end of the stream after a prefix")
			assert.Less(t, len(got), len(big))
			assert.Equal(t, big[:len(got)], got, "a prefix of what was written")
			require.NoError(t, within(t, async(r.Close), wait, "the reactor's Close, after the write's completion"))
		})
	}
}

// isErr asserts errors.Is(err, want).
func isErr(t *testing.T, err, want error, what string) {
	t.Helper()
	assert.ErrorIs(t, err, want, what)
}

// TestWindowsIPRTClientAgainstServe: a client as IPRT's, with a plain
// CreateFile of \\.\pipe\IPRT-<name> (no overlapped I/O: every call blocks
// its thread), talks to a Serve'd server byte-exact both ways.
func TestWindowsIPRTClientAgainstServe(t *testing.T) {
	r := newReactor(t)
	const greeting = "hello from a served session\n"
	closed := make(chan error, 1)
	_, name := serve(t, &funcHandler{
		open:  func(s *localipc.Session) error { _, err := s.Write([]byte(greeting)); return err },
		data:  echo,
		close: func(_ *localipc.Session, err error) { closed <- err },
	}, localipc.WithReactor(r))
	path, err := localipc.Path(name, 0)
	require.NoError(t, err)
	require.Equal(t, `\\.\pipe\IPRT-`+name, path)

	path16, err := windows.UTF16PtrFromString(path)
	require.NoError(t, err)
	h, err := windows.CreateFile(path16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_EXISTING, windows.SECURITY_SQOS_PRESENT|windows.SECURITY_ANONYMOUS, 0)
	require.NoError(t, err, "CreateFile")
	var closeOnce sync.Once
	closeH := func() { closeOnce.Do(func() { windows.CloseHandle(h) }) }
	t.Cleanup(closeH) // a blocked read wakes with an error
	payload := payloadFor(10)[:100<<10]
	done := async(func() error {
		// One thread at a time on a synchronous handle: write it all, then
		// read; the server's queue holds the echo meanwhile. Twice, the
		// greeting before the first.
		if err := readExactly(h, []byte(greeting)); err != nil {
			return err
		}
		for off := 0; off < 2*len(payload); {
			var n uint32
			if err := windows.WriteFile(h, payload[off%len(payload):], &n, nil); err != nil {
				return fmt.Errorf("WriteFile: %w", err)
			}
			off += int(n)
			if off == len(payload) {
				if err := readExactly(h, payload); err != nil {
					return err
				}
			}
		}
		return readExactly(h, payload)
	})
	err = within(t, done, wait, "the IPRT-style client")
	closeH()
	require.NoError(t, err)
	isErr(t, within(t, closed, wait, "OnClose"), io.EOF, "the client closed its handle")
}

// readExactly reads len(want) bytes from a synchronous handle and compares.
func readExactly(h windows.Handle, want []byte) error {
	got := make([]byte, len(want))
	for off := 0; off < len(got); {
		var n uint32
		if err := windows.ReadFile(h, got[off:], &n, nil); err != nil {
			return fmt.Errorf("ReadFile after %d bytes: %w", off, err)
		}
		off += int(n)
	}
	if !bytes.Equal(want, got) {
		return fmt.Errorf("read %d bytes that differ from what was sent", len(got))
	}
	return nil
}

// TestWindowsDialWithHandlerAgainstAPlainServer: the other way round, Dial
// WithHandler against a server made as the simplest Windows program makes
// one: CreateNamedPipe without overlapped I/O, a blocking ConnectNamedPipe,
// ReadFile and WriteFile.
func TestWindowsDialWithHandlerAgainstAPlainServer(t *testing.T) {
	r := newReactor(t)
	name := fmt.Sprintf(`\\.\pipe\localipc-plain-server-%s`, uniqueName(t))
	name16, err := windows.UTF16PtrFromString(name)
	require.NoError(t, err)
	srv, err := windows.CreateNamedPipe(name16, windows.PIPE_ACCESS_DUPLEX,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT, 1, 64<<10, 64<<10, 0, nil)
	require.NoError(t, err, "CreateNamedPipe")
	defer windows.CloseHandle(srv)
	payload := payloadFor(20)[:150<<10]
	// The server reverses what it reads, so that an echo by mistake shows.
	served := async(func() error {
		if err := windows.ConnectNamedPipe(srv, nil); err != nil && err != windows.ERROR_PIPE_CONNECTED {
			return fmt.Errorf("ConnectNamedPipe: %w", err)
		}
		buf := make([]byte, len(payload))
		for off := 0; off < len(buf); {
			var n uint32
			if err := windows.ReadFile(srv, buf[off:], &n, nil); err != nil {
				return fmt.Errorf("ReadFile: %w", err)
			}
			off += int(n)
		}
		for i, j := 0, len(buf)-1; i < j; i, j = i+1, j-1 {
			buf[i], buf[j] = buf[j], buf[i]
		}
		var n uint32
		if err := windows.WriteFile(srv, buf, &n, nil); err != nil {
			return fmt.Errorf("WriteFile: %w", err)
		}
		return nil
	})

	var mu sync.Mutex
	var got []byte
	complete := make(chan struct{})
	closed := make(chan error, 1)
	c, err := dialWithHandler(name, localipc.NativeName, &funcHandler{
		open: func(s *localipc.Session) error { _, err := s.Write(payload); return err },
		data: func(_ *localipc.Session, b []byte) int {
			mu.Lock()
			got = append(got, b...)
			if len(got) == len(payload) {
				close(complete)
			}
			mu.Unlock()
			return len(b)
		},
		close: func(_ *localipc.Session, err error) { closed <- err },
	}, localipc.WithReactor(r))
	if err != nil {
		// Let the server's ConnectNamedPipe go before failing.
		if h, cerr := windows.CreateFile(name16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING, 0, 0); cerr == nil {
			windows.CloseHandle(h)
		}
		within(t, served, wait, "the plain server")
		require.NoError(t, err, "Dial WithHandler")
	}
	defer c.Close()
	require.NoError(t, within(t, served, wait, "the plain server"))
	within(t, complete, wait, "the reversed payload")
	mu.Lock()
	want := append([]byte(nil), payload...)
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i]
	}
	assert.Equal(t, want, got, "what the plain server wrote")
	mu.Unlock()
	require.NoError(t, windows.DisconnectNamedPipe(srv))
	isErr(t, within(t, closed, wait, "OnClose"), io.EOF, "the server went")
}

// dialWithHandler dials name with a handler, bounded by wait.
func dialWithHandler(name string, flags localipc.Flags, h localipc.Handler, opts ...localipc.Option) (*localipc.Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return localipc.DialContext(ctx, name, flags, append(opts, localipc.WithHandler(h))...)
}

// TestWindowsSecurityDescriptor: WithSecurityDescriptor gives the pipes the
// SDDL string's descriptor, for Listen and Serve; a string Windows cannot
// read fails, and so does one with RestrictToUser, which sets its own DACL.
// Wine enforces no DACL (tooling.md §1, divergence 3), so here only that a
// descriptor that lets us in works is judged.
func TestWindowsSecurityDescriptor(t *testing.T) {
	const everyone = "D:P(A;;GA;;;WD)"
	t.Run("Listen", func(t *testing.T) {
		srv, name := listen(t, 0, localipc.WithSecurityDescriptor(everyone))
		c, err := dialWithin(name, wait)
		require.NoError(t, err)
		defer c.Close()
		s := within(t, acceptAsync(srv), wait, "AcceptSession")
		require.NotNil(t, s)
		defer s.Close()
		roundTrip(t, c, s, "through a pipe with our descriptor")
	})
	t.Run("Serve", func(t *testing.T) {
		r := newReactor(t)
		_, name := serve(t, &funcHandler{data: echo}, localipc.WithReactor(r), localipc.WithSecurityDescriptor(everyone))
		c := dial(t, name)
		_, err := c.Write([]byte("echo"))
		require.NoError(t, err)
		got := make([]byte, 4)
		require.NoError(t, c.ReadFull(got))
		assert.Equal(t, "echo", string(got))
	})
	t.Run("a string that is no SDDL", func(t *testing.T) {
		srv, err := localipc.Listen(uniqueName(t), 0, localipc.WithSecurityDescriptor("not a descriptor"))
		assert.Nil(t, srv)
		assert.ErrorIs(t, err, windows.ERROR_INVALID_PARAMETER)
		assert.Contains(t, err.Error(), "ConvertStringSecurityDescriptorToSecurityDescriptor")
	})
	t.Run("with RestrictToUser", func(t *testing.T) {
		srv, err := localipc.Listen(uniqueName(t), localipc.RestrictToUser, localipc.WithSecurityDescriptor(everyone))
		assert.Nil(t, srv)
		assert.ErrorIs(t, err, localipc.ErrInvalidFlags)
	})
}

// TestWindowsServeManySequentialDials: clients that dial one after another
// and stay silent, as a fan-out client connects its sessions before it
// talks, each find an instance waiting. A client that meets an instance
// before its connect is posted must still be taken, not left waiting for
// its first byte with the instance lost to the backlog.
func TestWindowsServeManySequentialDials(t *testing.T) {
	const n = 300
	r := newReactor(t)
	_, name := serve(t, &funcHandler{data: echo}, localipc.WithReactor(r))
	clients := make([]*localipc.Session, 0, n)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := range n {
		c, err := dialWithin(name, 10*time.Second)
		require.NoError(t, err, "client %d", i)
		clients = append(clients, c)
	}
	for i, c := range clients {
		require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
		msg := []byte(fmt.Sprintf("client %d", i))
		_, err := c.Write(msg)
		require.NoError(t, err)
		got := make([]byte, len(msg))
		require.NoError(t, c.ReadFull(got))
		require.Equal(t, msg, got)
	}
}
