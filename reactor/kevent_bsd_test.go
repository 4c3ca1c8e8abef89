//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The numbers kevent_test.go runs on Linux are this system's: a table that
// drifted from x/sys would test a translation no poller makes.
func TestKqueueABIMatchesSystem(t *testing.T) {
	want, ok := kqueueABIs[runtime.GOOS]
	require.True(t, ok, "no kqueue ABI written down for %s", runtime.GOOS)
	q, err := newPoller()
	require.NoError(t, err)
	defer q.close()
	got := q.(*poller).abi
	if want.wakeIdent == pipeFD { // the self-pipe's read end, known only now
		want.wakeIdent = got.wakeIdent
	}
	assert.Equal(t, want, got)
}
