//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Compiled by CI for every BSD and macOS, run only where someone runs them:
// the peer of a real connection is this process, by every getsockopt the
// system has. A system without a pid must say so with ErrNotSupported.
func TestPeerCredBSD(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	lfd, ino, err := Listen(path, ListenConfig{Group: -1})
	require.NoError(t, err)
	t.Cleanup(func() { Unlink(path, ino); Close(lfd) })
	client, err := Socket()
	require.NoError(t, err)
	t.Cleanup(func() { Close(client) })
	require.NoError(t, Connect(client, path))
	server, err := Accept(lfd)
	require.NoError(t, err)
	t.Cleanup(func() { Close(server) })

	for name, fd := range map[string]int{"client": client, "server": server} {
		got, err := PeerCred(fd)
		require.NoError(t, err, name)
		assert.Equal(t, os.Geteuid(), got.UID, name)
		assert.Equal(t, os.Getegid(), got.GID, name)
		if got.PIDErr != nil {
			assert.True(t, errors.Is(got.PIDErr, ipcerr.ErrNotSupported), "%s: %v", name, got.PIDErr)
			assert.Equal(t, -1, got.PID, name)
		} else {
			assert.Equal(t, os.Getpid(), got.PID, name)
		}
	}
}
