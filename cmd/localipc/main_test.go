package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeEchoAndConnect(t *testing.T) {
	name := fmt.Sprintf("cmd-test-%d", os.Getpid())
	srv, err := localipc.Listen(name, 0)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- serveEcho(srv) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	input := strings.Repeat("copied through the echo server\n", 10_000)
	require.NoError(t, runConnect(ctx, []string{name}, strings.NewReader(input), &out))
	assert.Equal(t, input, out.String(), "connect sends stdin, half-closes, and prints the echo")

	require.NoError(t, srv.Close())
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("serveEcho did not end with its server")
	}
}

func TestConnectToNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := runConnect(ctx, []string{fmt.Sprintf("cmd-test-none-%d", os.Getpid())}, strings.NewReader(""), io.Discard)
	assert.ErrorIs(t, err, localipc.ErrNotFound)
	assert.Equal(t, -102, localipc.Status(err))
}

func TestServeHTTP(t *testing.T) {
	name := fmt.Sprintf("cmd-test-http-%d", os.Getpid())
	srv, err := localipc.Listen(name, 0)
	require.NoError(t, err)
	hs := &http.Server{Handler: helloHandler(srv)}
	go hs.Serve(srv)
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return localipc.DialContext(ctx, name, 0) },
	}, Timeout: 10 * time.Second}
	resp, err := client.Get("http://localipc/some/path")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("hello from localipc on %s, you asked for /some/path\n", srv.Addr()), string(body))
}
