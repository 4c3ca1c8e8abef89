package testutil

import (
	"testing"

	"github.com/localipc/localipc/internal/winapi"
	"github.com/stretchr/testify/require"
)

// openHandles counts the process's handles, the Windows kin of its
// descriptors. The runtime holds some too (threads, timers), so a count
// compared across a test holds only while the test starts no new thread.
func openHandles(t testing.TB) (int, bool) {
	t.Helper()
	n, err := winapi.GetProcessHandleCount()
	require.NoError(t, err)
	return int(n), true
}
