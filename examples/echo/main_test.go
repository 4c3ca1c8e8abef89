package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/require"
)

func TestEcho(t *testing.T) {
	name := fmt.Sprintf("example-echo-%d", os.Getpid())
	srv, err := localipc.Serve(name, 0, echoHandler{})
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := localipc.DialContext(ctx, name, 0)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	msg := bytes.Repeat([]byte("localipc "), 100_000) // more than one read's worth
	go c.Write(msg)
	got := make([]byte, len(msg))
	require.NoError(t, c.ReadFull(got))
	require.Equal(t, msg, got)
}
