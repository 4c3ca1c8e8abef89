//go:build linux

// Server Cancel and Close: blocked accepts woken, Cancel sticky, every call after Close refused.

package localipc_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
)

func TestServerCancelIsSticky(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	path := srv.Addr().String()
	client, before := connect(t, srv, name, 0)

	blocked := acceptAsync(t, srv)
	waitParked(t, "localipc.(*Server).AcceptSession", 1, "IO wait")
	expect(t, srv.Cancel(), nil, ipcerr.VINF_SUCCESS, "Cancel")
	r := within(t, blocked, 10*time.Second, "the blocked AcceptSession")
	expect(t, r.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "blocked AcceptSession after Cancel")
	assert.Nil(t, r.s)

	// A client waiting in the backlog changes nothing: cancelled is final.
	dialT(t, name, 0)
	for i := 0; i < 3; i++ {
		start := time.Now()
		r := within(t, acceptAsync(t, srv), 10*time.Second, "AcceptSession after Cancel")
		expect(t, r.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, fmt.Sprintf("AcceptSession #%d after Cancel", i))
		assert.Less(t, time.Since(start), time.Second, "at once")
	}
	expect(t, srv.Cancel(), nil, ipcerr.VINF_SUCCESS, "second Cancel")

	exchange(t, client, before, "session accepted before Cancel")
	expect(t, srv.Close(), nil, ipcerr.VINF_SUCCESS, "Close after Cancel")
	requireGone(t, path)
}

func TestServerCloseWakesAccepts(t *testing.T) {
	noFDLeak(t)
	srv, name := listen(t, 0)
	path := srv.Addr().String()
	client, before := connect(t, srv, name, 0)

	pendingSession := acceptAsync(t, srv)
	pendingConn := async(func() error {
		c, err := srv.Accept()
		if c != nil {
			c.Close()
		}
		return err
	})
	// One waits in the poller, the other for the listener's read lock.
	waitParked(t, "localipc.(*Server).AcceptSession", 2, "IO wait", "semacquire")
	expect(t, srv.Close(), nil, ipcerr.VINF_SUCCESS, "Close")

	r := within(t, pendingSession, 10*time.Second, "pending AcceptSession")
	expect(t, r.err, localipc.ErrCancelled, ipcerr.VERR_CANCELLED, "AcceptSession woken by Close")
	err := within(t, pendingConn, 10*time.Second, "pending Accept")
	assert.ErrorIs(t, err, net.ErrClosed, "Accept woken by Close (net/http's end of Serve)")
	assert.Equal(t, ipcerr.VERR_INVALID_HANDLE, localipc.Status(err))
	requireGone(t, path)

	_, err = srv.AcceptSession()
	expect(t, err, localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "AcceptSession after Close")
	_, err = srv.Accept()
	expect(t, err, net.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Accept after Close")
	expect(t, srv.Cancel(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "Cancel after Close")
	expect(t, srv.SetAccessMode(0o600), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "SetAccessMode after Close")
	expect(t, srv.GrantGroupAccess(nobody), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "GrantGroupAccess after Close")
	expect(t, srv.Close(), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "second Close")

	exchange(t, client, before, "session accepted before Close")
}
