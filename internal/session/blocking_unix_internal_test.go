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
// conn.write is that Write once it has the turn.
func TestAWriteAfterCancelSendsNothing(t *testing.T) {
	fa, fb := testutil.Socketpair(t)
	s, err := New(uintptr(fa), &Addrs{})
	require.NoError(t, err)
	defer s.Close()
	defer unix.Close(fb)
	require.NoError(t, s.Cancel())

	n, perr, serr := s.conn.write([]byte("after Cancel"))
	assert.Zero(t, n)
	assert.ErrorIs(t, perr, os.ErrDeadlineExceeded)
	assert.NoError(t, serr)
	_, err = unix.Read(fb, make([]byte, 64))
	assert.Equal(t, unix.EAGAIN, err, "the peer got bytes sent after Cancel")
}
