package ipcerr

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected codes are written as numbers, not as the constants, so that a
// wrong constant cannot agree with itself.
var sentinelCases = []struct {
	name string
	err  error
	want int
}{
	{"ErrCancelled", ErrCancelled, -70},
	{"ErrTimeout", ErrTimeout, -40},
	{"os.ErrDeadlineExceeded", os.ErrDeadlineExceeded, -40},
	{"ErrBrokenPipe", ErrBrokenPipe, -301},
	{"io.EOF", io.EOF, -301},
	{"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF, -301},
	{"ErrTryAgain", ErrTryAgain, 52},
	{"ErrNotSupported", ErrNotSupported, -37},
	{"ErrInvalidName", ErrInvalidName, -104},
	{"ErrInvalidUTF8", ErrInvalidUTF8, -61},
	{"ErrCodePointSurrogate", ErrCodePointSurrogate, -60},
	{"ErrCodePointEndianIndicator", ErrCodePointEndianIndicator, -59},
	{"ErrNameTooLong", ErrNameTooLong, -120},
	{"ErrInvalidFlags", ErrInvalidFlags, -13},
	{"ErrClosed", ErrClosed, -4},
	{"net.ErrClosed", net.ErrClosed, -4},
	{"ErrAddressInUse", ErrAddressInUse, -448},
	{"ErrNotFound", ErrNotFound, -102},
	{"ErrPathNotFound", ErrPathNotFound, -103},
	{"ErrConnectionRefused", ErrConnectionRefused, -461},
	{"ErrAccessDenied", ErrAccessDenied, -38},
	{"ErrPipeBusy", ErrPipeBusy, -303},
}

func TestStatusSentinels(t *testing.T) {
	for _, tc := range sentinelCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Status(tc.err))
			assert.Equal(t, tc.want, Status(fmt.Errorf("op: %w", tc.err)), "wrapped once")
			assert.Equal(t, tc.want, Status(fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", tc.err))), "wrapped twice")
			assert.Equal(t, tc.want, Status(&net.OpError{Op: "read", Net: "unix", Err: tc.err}), "in a *net.OpError")
		})
	}
}

// The encoding errors are refinements: a caller that tests ErrInvalidName (or
// ErrInvalidUTF8) catches them, and Status reports the narrowest code even
// when the error also wraps the wider sentinel.
func TestEncodingSentinelsRefine(t *testing.T) {
	for _, tc := range []struct {
		err   error
		is    []error
		isNot []error
		want  int
	}{
		{ErrInvalidUTF8, []error{ErrInvalidName}, []error{ErrCodePointSurrogate, ErrCodePointEndianIndicator}, -61},
		{ErrCodePointSurrogate, []error{ErrInvalidUTF8, ErrInvalidName}, []error{ErrCodePointEndianIndicator}, -60},
		{ErrCodePointEndianIndicator, []error{ErrInvalidUTF8, ErrInvalidName}, []error{ErrCodePointSurrogate}, -59},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			for _, target := range tc.is {
				assert.ErrorIs(t, tc.err, target)
				assert.ErrorIs(t, fmt.Errorf("x: %w", tc.err), target)
			}
			for _, target := range tc.isNot {
				assert.NotErrorIs(t, tc.err, target)
			}
			assert.Equal(t, tc.want, Status(fmt.Errorf("%w: %w", ErrInvalidName, tc.err)), "beside ErrInvalidName")
		})
	}
	assert.NotErrorIs(t, ErrInvalidName, ErrInvalidUTF8, "the wide one does not match the narrow one")
	assert.NotErrorIs(t, ErrPathNotFound, ErrNotFound)
	assert.NotErrorIs(t, ErrNotFound, ErrPathNotFound)
}

func TestStatusNilAndUnknown(t *testing.T) {
	assert.Equal(t, 0, Status(nil))
	assert.Equal(t, -35, Status(errors.New("something else")))
	assert.Equal(t, -35, Status(fmt.Errorf("wrapped: %w", errors.New("something else"))))
	assert.Equal(t, -35, Status(os.ErrNotExist), "a standard error that is not an errno")
}

func TestStatusSentinelBeatsErrno(t *testing.T) {
	// A session that saw EPIPE and reports ErrCancelled keeps both in the chain;
	// the sentinel is what the caller was told, so it decides the status.
	err := fmt.Errorf("%w: %w", ErrCancelled, errnoCases[0].errno)
	assert.Equal(t, -70, Status(err))
}

// errnoCases (one table per OS, in status_*_test.go) lists every entry of
// errnoTable with its expected code.
func TestStatusErrno(t *testing.T) {
	require.Len(t, errnoCases, len(errnoTable), "every table entry has a test case")
	for _, tc := range errnoCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Status(tc.errno), "bare")
			assert.Equal(t, tc.want, Status(os.NewSyscallError("connect", tc.errno)), "*os.SyscallError")
			assert.Equal(t, tc.want, Status(&os.PathError{Op: "open", Path: "/x", Err: tc.errno}), "*os.PathError")
			opErr := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", tc.errno)}
			assert.Equal(t, tc.want, Status(opErr), "*net.OpError around *os.SyscallError")
			assert.Equal(t, tc.want, Status(fmt.Errorf("localipc: dial: %w", opErr)), "wrapped *net.OpError")
		})
	}
}

func TestSentinelsMatchStandardErrors(t *testing.T) {
	assert.ErrorIs(t, ErrClosed, net.ErrClosed)
	assert.ErrorIs(t, fmt.Errorf("x: %w", ErrClosed), net.ErrClosed)
	assert.ErrorIs(t, ErrTimeout, os.ErrDeadlineExceeded)
	assert.NotErrorIs(t, ErrCancelled, net.ErrClosed)

	var ne net.Error
	require.ErrorAs(t, ErrTimeout, &ne)
	assert.True(t, ne.Timeout())
	require.ErrorAs(t, ErrClosed, &ne)
	assert.False(t, ne.Timeout())
}
