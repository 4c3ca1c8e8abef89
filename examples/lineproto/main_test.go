package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLineProtocol(t *testing.T) {
	name := fmt.Sprintf("example-lineproto-%d", os.Getpid())
	srv, err := localipc.Serve(name, 0, handler{db: newStore()})
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	}()
	dial := func() *localipc.Session {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := localipc.DialContext(ctx, name, 0)
		require.NoError(t, err)
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		return c
	}

	c := dial()
	defer c.Close()
	// Lines split across writes, and several lines in one write: the
	// handler sees whatever the reads bring and must frame it.
	for _, piece := range []string{"SET gre", "eting hel", "lo world\nGET greeting\nGET nothing\n", "BOGUS\r\n", "QUIT\n"} {
		_, err := c.Write([]byte(piece))
		require.NoError(t, err)
	}
	replies, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "OK\nVALUE hello world\nNOTFOUND\nERR unknown command \"BOGUS\"\nBYE\n", string(replies))

	// The store outlives the session; another session sees it.
	c2 := dial()
	defer c2.Close()
	_, err = c2.Write([]byte("GET greeting\nQUIT\n"))
	require.NoError(t, err)
	replies, err = io.ReadAll(c2)
	require.NoError(t, err)
	assert.Equal(t, "VALUE hello world\nBYE\n", string(replies))

	c3 := dial()
	defer c3.Close()
	_, err = c3.Write([]byte(strings.Repeat("x", maxLine+1)))
	require.NoError(t, err)
	replies, err = io.ReadAll(c3)
	require.NoError(t, err)
	assert.Equal(t, "ERR line too long\n", string(replies))
}
