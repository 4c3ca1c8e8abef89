//go:build unix

package session

import (
	"os"
	"testing"

	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A Write queued for the writer's turn when Cancel comes has passed its
// check of the sticky flag already; when its turn comes it must still send
// nothing, though the socket has room, as it did when every send went
// through the runtime poller, whose deadline Cancel moves into the past.
// blocking.send is that Write once it has the turn.
func TestAWriteAfterCancelSendsNothing(t *testing.T) {
	fa, fb := testutil.Socketpair(t)
	s, err := New(uintptr(fa), &Addrs{})
	require.NoError(t, err)
	defer s.Close()
	defer unix.Close(fb)
	require.NoError(t, s.Cancel())

	n, perr, serr := s.blocking.send([]byte("after Cancel"))
	assert.Zero(t, n)
	assert.ErrorIs(t, perr, os.ErrDeadlineExceeded)
	assert.NoError(t, serr)
	_, err = unix.Read(fb, make([]byte, 64))
	assert.Equal(t, unix.EAGAIN, err, "the peer got bytes sent after Cancel")
}

// Once close has begun, a send that reaches the guard is turned away: the
// descriptor may be closed and its number another's by then. blocking.send is
// a Write that passed its entry check before the session was destroyed; it
// runs here after the last Release, with a new socket on the freed number.
func TestASendAfterCloseIsRefused(t *testing.T) {
	fa, fb := testutil.Socketpair(t)
	s, err := New(uintptr(fa), &Addrs{})
	require.NoError(t, err)
	defer unix.Close(fb)
	require.EqualValues(t, 0, s.Release())
	na, nb := testutil.Socketpair(t) // the lowest free number: fa's, as a rule
	defer unix.Close(na)
	defer unix.Close(nb)

	n, perr, serr := s.blocking.send([]byte("after close"))
	assert.Zero(t, n)
	assert.ErrorIs(t, perr, os.ErrClosed)
	assert.NoError(t, serr)
	for _, fd := range []int{nb, na} {
		_, err = unix.Read(fd, make([]byte, 64))
		assert.Equal(t, unix.EAGAIN, err, "a new socket got bytes sent after close")
	}
}
