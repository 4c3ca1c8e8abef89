package sock

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPeerCred(t *testing.T) {
	checkFDs(t)
	client, server := pair(t)
	want := Cred{PID: os.Getpid(), UID: os.Geteuid(), GID: os.Getegid()}
	for name, fd := range map[string]int{"client": client, "server": server} {
		got, err := PeerCred(fd)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}

func TestPeerCredBadFD(t *testing.T) {
	got, err := PeerCred(-1)
	assert.Error(t, err)
	assert.Equal(t, noCred, got)
}
