//go:build unix

package ipcerr

import (
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var osErrorCases = []struct {
	errno    syscall.Errno
	sentinel error // nil: none expected
	status   int
}{
	{syscall.ENOENT, ErrNotFound, -102},
	{syscall.ECONNREFUSED, ErrConnectionRefused, -461},
	{syscall.EACCES, ErrAccessDenied, -38},
	{syscall.EPERM, ErrAccessDenied, -38},
	{syscall.EADDRINUSE, ErrAddressInUse, -448},
	{syscall.EPIPE, ErrBrokenPipe, -301},
	{syscall.ECONNRESET, ErrBrokenPipe, -301},
	{syscall.ENAMETOOLONG, ErrNameTooLong, -120},
	// No sentinel: Status falls back to IPRT's errno conversion.
	{syscall.EAGAIN, nil, -52},
	{syscall.ENOTDIR, nil, -103},
	{syscall.EMFILE, nil, -106},
	{syscall.EINTR, nil, -39},
}

func TestOSErrorErrno(t *testing.T) {
	for _, tc := range osErrorCases {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			err := OSError("connect", "/tmp/.iprt-localipc-x", tc.errno)
			assert.EqualError(t, err, "localipc: connect /tmp/.iprt-localipc-x: "+tc.errno.Error())
			assert.ErrorIs(t, err, tc.errno)
			var errno syscall.Errno
			require.ErrorAs(t, err, &errno)
			assert.Equal(t, tc.errno, errno)
			for _, s := range sentinelCases {
				if s.err == tc.sentinel {
					assert.ErrorIs(t, err, s.err)
				} else {
					assert.NotErrorIs(t, err, s.err, s.name)
				}
			}
			assert.Equal(t, tc.status, Status(err))
			assert.Equal(t, tc.status, Status(fmt.Errorf("outer: %w", err)), "wrapped")
		})
	}
}

func TestOSErrorStandardMatches(t *testing.T) {
	// The errno's own Is keeps working, so code written against os/fs still
	// recognises a missing server.
	assert.ErrorIs(t, OSError("dial", "/x", syscall.ENOENT), fs.ErrNotExist)
	assert.ErrorIs(t, OSError("dial", "/x", syscall.EACCES), fs.ErrPermission)
}

func TestOSErrorSentinelTableCovered(t *testing.T) {
	// A table entry without a case above would go untested.
	for _, s := range errnoSentinels {
		found := false
		for _, tc := range osErrorCases {
			found = found || (tc.errno == s.errno && tc.sentinel == s.err)
		}
		assert.True(t, found, "no test case for %v", s.errno)
	}
}
