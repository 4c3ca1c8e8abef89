package ipcerr

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/windows"
)

var winErrorCases = []struct {
	errno    syscall.Errno
	sentinel error // nil: none expected
	status   int
}{
	{windows.ERROR_FILE_NOT_FOUND, ErrNotFound, -102},
	{windows.ERROR_PATH_NOT_FOUND, ErrPathNotFound, -103},
	{windows.ERROR_ACCESS_DENIED, ErrAccessDenied, -38},
	{windows.ERROR_PIPE_BUSY, ErrPipeBusy, -303},
	{windows.ERROR_BROKEN_PIPE, ErrBrokenPipe, -301},
	// IPRT's Write: ERROR_NO_DATA (the pipe is being closed) is
	// VERR_BROKEN_PIPE; so is a pipe whose peer disconnected.
	{windows.ERROR_NO_DATA, ErrBrokenPipe, -301},
	{windows.ERROR_PIPE_NOT_CONNECTED, ErrBrokenPipe, -301},
	{windows.ERROR_FILENAME_EXCED_RANGE, ErrNameTooLong, -120},
	{windows.ERROR_INVALID_NAME, ErrInvalidName, -104},
	{windows.ERROR_BAD_PATHNAME, ErrInvalidName, -104},
	// No sentinel: Status falls back to RTErrConvertFromWin32.
	{windows.ERROR_OPERATION_ABORTED, nil, -39},
	{windows.ERROR_MORE_DATA, nil, -306},
	{windows.ERROR_PIPE_CONNECTED, nil, -300},
	{windows.ERROR_TOO_MANY_OPEN_FILES, nil, -106},
	{windows.ERROR_INVALID_HANDLE, nil, -4},
}

func TestOSErrorWin32(t *testing.T) {
	for _, tc := range winErrorCases {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			err := OSError("CreateFile", `\\.\pipe\IPRT-x`, tc.errno)
			assert.EqualError(t, err, `localipc: CreateFile \\.\pipe\IPRT-x: `+tc.errno.Error())
			assert.ErrorIs(t, err, tc.errno, "the Win32 code stays reachable")
			for _, s := range sentinelCases {
				if tc.sentinel != nil && errors.Is(tc.sentinel, s.err) {
					assert.ErrorIs(t, err, s.err, s.name)
				} else {
					assert.NotErrorIs(t, err, s.err, s.name)
				}
			}
			assert.Equal(t, tc.status, Status(err))
		})
	}
}

func TestOSErrorWin32SentinelTableCovered(t *testing.T) {
	for _, s := range errnoSentinels {
		found := false
		for _, tc := range winErrorCases {
			found = found || (tc.errno == s.errno && tc.sentinel == s.err)
		}
		assert.True(t, found, "no test case for %v", s.errno)
	}
}
