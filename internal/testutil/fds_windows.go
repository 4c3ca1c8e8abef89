package testutil

import (
	"testing"

	"github.com/localipc/localipc/internal/winapi"
	"github.com/stretchr/testify/require"
)

// openHandles counts the process's file handles (pipes among them), the
// Windows kin of its descriptors; the runtime's threads and events, which
// come and go as it pleases, are not files.
func openHandles(t testing.TB) (int, bool) {
	t.Helper()
	n, err := winapi.FileHandleCount()
	require.NoError(t, err)
	return int(n), true
}
