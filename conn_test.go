//go:build linux

package localipc_test

// Sessions as net.Conn and servers as net.Listener, checked by code that
// knows nothing of localipc: x/net's conformance suite, net/http with Go's
// client and with curl, io.Copy and bufio.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/nettest"
)

func TestConnNettest(t *testing.T) {
	noFDLeak(t)
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		name := uniqueName(t)
		srv, err := localipc.Listen(name, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		accepted := async(func() acceptResult {
			s, err := srv.AcceptSession()
			return acceptResult{s, err}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client, err := localipc.DialContext(ctx, name, 0)
		if err != nil {
			srv.Close()
			return nil, nil, nil, err
		}
		var r acceptResult
		select {
		case r = <-accepted:
		case <-time.After(10 * time.Second):
			r.err = context.DeadlineExceeded
		}
		if r.err != nil {
			client.Close()
			srv.Close()
			return nil, nil, nil, r.err
		}
		stop = func() {
			client.Close()
			r.s.Close()
			srv.Close()
		}
		return client, r.s, stop, nil
	})
}

// httpServe serves h on srv until the test ends, then shuts the server down
// within a bounded time.
func httpServe(t *testing.T, srv *localipc.Server, h http.Handler) {
	t.Helper()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := async(func() error { return hs.Serve(srv) })
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, hs.Shutdown(ctx), "http.Server.Shutdown")
		assert.ErrorIs(t, within(t, served, 10*time.Second, "http.Serve to return"), http.ErrServerClosed)
	})
}

type seenRequest struct{ method, path, userAgent string }

// echoPathHandler answers with a body naming the path and reports every
// request it saw.
func echoPathHandler(seen chan<- seenRequest) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- seenRequest{r.Method, r.URL.Path, r.UserAgent()}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "localipc served "+r.URL.Path+"\n")
	})
}

func TestHTTPOverLocalipc(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	seen := make(chan seenRequest, 4)
	httpServe(t, srv, echoPathHandler(seen))

	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return localipc.DialContext(ctx, name, 0)
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	for _, path := range []string{"/first", "/second/with/parts"} {
		resp, err := client.Get("http://localipc" + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "localipc served "+path+"\n", string(body))
		req := within(t, seen, 10*time.Second, "the handler")
		assert.Equal(t, seenRequest{"GET", path, "Go-http-client/1.1"}, req)
	}
}

func TestHTTPOverLocalipcWithCurl(t *testing.T) {
	noFDLeak(t)
	curl := needTool(t, "curl")
	srv, _ := listen(t, 0)
	seen := make(chan seenRequest, 4)
	httpServe(t, srv, echoPathHandler(seen))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, "-sS", "--max-time", "10",
		"--unix-socket", srv.Addr().String(), "http://localhost/from/curl")
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "curl: %s", stderr.String())
	assert.Equal(t, "localipc served /from/curl\n", string(out))
	req := within(t, seen, 10*time.Second, "the handler")
	assert.Equal(t, "GET", req.method)
	assert.Equal(t, "/from/curl", req.path)
	assert.True(t, strings.HasPrefix(req.userAgent, "curl/"), "User-Agent %q", req.userAgent)
}

// lineWriter hands each write (one log line) to a channel, so that a test
// can wait for http.Server to log something.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default: // the test stopped listening; drop
	}
	return len(p), nil
}

// TestHTTPServeSurvivesEMFILE: net/http's Serve keeps serving through an
// accept error only if the error is itself a net.Error whose Temporary()
// is true (a type assertion, not errors.As), as net.UnixListener's EMFILE
// is; any other error ends Serve for good. Running out of descriptors must
// not take a localipc-backed HTTP server down.
func TestHTTPServeSurvivesEMFILE(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	seen := make(chan seenRequest, 4)
	// The request waits in the backlog before Serve runs.
	client := dialT(t, name, 0)
	_, err := io.WriteString(client, "GET /after/emfile HTTP/1.1\r\nHost: localipc\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)

	release := exhaustFDs(t)
	logged := make(lineWriter, 16)
	hs := &http.Server{Handler: echoPathHandler(seen), ErrorLog: log.New(logged, "", 0)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(srv) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		within(t, served, 10*time.Second, "http.Serve to return")
	})
	select {
	case line := <-logged:
		assert.Contains(t, line, "too many open files", "http.Serve logs the accept error and retries")
	case err := <-served:
		served <- err // for the cleanup
		release()
		require.FailNowf(t, "http.Serve gave up", "Serve returned on EMFILE instead of retrying: %v (%T)", err, err)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "http.Serve neither retried nor returned")
	}
	release()

	require.NoError(t, client.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(client), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "localipc served /after/emfile\n", string(body))
	assert.Equal(t, "/after/emfile", within(t, seen, 10*time.Second, "the handler").path)
}

// pattern is n deterministic bytes covering every byte value, with a period
// that is not a power of two so that a chunk landing at the wrong offset
// shows.
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i%251) ^ byte(i>>11)
	}
	return p
}

func TestCopyThroughEcho(t *testing.T) {
	noFDLeak(t)
	client, server := pair(t)
	const size = 8 << 20
	want := pattern(size)

	echoed := async(func() error {
		n, err := io.Copy(server, server)
		if err == nil && n != size {
			err = io.ErrShortWrite
		}
		server.Close() // the end of the echo is the client's end of stream
		return err
	})
	sent := async(func() error {
		// Odd-sized writes through a bufio.Writer so that buffer and
		// socket boundaries never line up.
		w := bufio.NewWriterSize(client, 48<<10)
		for off := 0; off < size; {
			n := min(7919, size-off)
			if _, err := w.Write(want[off : off+n]); err != nil {
				return err
			}
			off += n
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return client.CloseWrite()
	})
	got := within(t, async(func() []byte {
		b, err := io.ReadAll(bufio.NewReader(client))
		assert.NoError(t, err)
		return b
	}), 60*time.Second, "8 MiB echoed")
	require.NoError(t, within(t, sent, 10*time.Second, "writer"))
	require.NoError(t, within(t, echoed, 10*time.Second, "echo"))
	require.Len(t, got, size)
	require.True(t, bytes.Equal(want, got), "echoed bytes differ from the pattern")
}
