// Fuzzing Status: whatever error it is given, it never panics, and wrapping
// an error (fmt.Errorf %w, os.PathError, os.SyscallError, net.OpError, or
// errors.Join with a plain error) never changes its IPRT code.

package localipc_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/require"
)

// statusRoots are the errors FuzzStatus starts from: every sentinel, the
// standard errors Status knows, and a few that it does not.
var statusRoots = []error{
	nil,
	localipc.ErrCancelled, localipc.ErrTimeout, localipc.ErrBrokenPipe, localipc.ErrTryAgain,
	localipc.ErrNotSupported, localipc.ErrInvalidName, localipc.ErrInvalidUTF8, localipc.ErrNameTooLong,
	localipc.ErrInvalidFlags, localipc.ErrClosed, localipc.ErrAddressInUse, localipc.ErrNotFound,
	localipc.ErrPathNotFound, localipc.ErrConnectionRefused, localipc.ErrAccessDenied, localipc.ErrPipeBusy,
	localipc.ErrInputLimit,
	io.EOF, io.ErrUnexpectedEOF, os.ErrDeadlineExceeded, net.ErrClosed, os.ErrNotExist, os.ErrPermission,
	errors.New("an error localipc never heard of"),
}

// FuzzStatus builds an error from the input: a root (a sentinel, a standard
// error, or an errno number taken from the input), then one wrapping per
// remaining byte, with the input's bytes as text.
func FuzzStatus(f *testing.F) {
	f.Add(uint8(1), uint16(0), []byte{})
	f.Add(uint8(3), uint16(0), []byte{0, 1, 2, 3, 4})
	f.Add(uint8(255), uint16(32), []byte("EPIPE wrapped"))    // errno 32
	f.Add(uint8(255), uint16(104), []byte{2, 2, 3, 3})        // ECONNRESET
	f.Add(uint8(255), uint16(65535), []byte("unknown errno")) // no such errno
	f.Add(uint8(7), uint16(0), []byte{4, 4, 4, 4, 4, 4, 4, 4})
	f.Fuzz(func(t *testing.T, root uint8, errno uint16, wraps []byte) {
		var err error
		if int(root) < len(statusRoots) {
			err = statusRoots[root]
		} else {
			err = syscall.Errno(errno)
		}
		want := localipc.Status(err)
		if err == nil {
			require.Equal(t, 0, want, "Status(nil)")
			return
		}
		if len(wraps) > 64 {
			wraps = wraps[:64]
		}
		wrapped := err
		for i, w := range wraps {
			text := string(wraps[i:])
			switch w % 5 {
			case 0:
				wrapped = fmt.Errorf("%s: %w", text, wrapped)
			case 1:
				wrapped = &os.PathError{Op: "op", Path: text, Err: wrapped}
			case 2:
				wrapped = os.NewSyscallError(text, wrapped)
			case 3:
				wrapped = &net.OpError{Op: "read", Net: "unix", Err: wrapped}
			case 4:
				// Joined with an error that has no code: the code of the
				// one that has one must show through.
				wrapped = errors.Join(errors.New(text), wrapped)
			}
		}
		require.Equal(t, want, localipc.Status(wrapped), "Status of %v wrapped as %q", err, wrapped)
		require.ErrorIs(t, wrapped, err, "the wrapping keeps the root in the chain")
		require.NotPanics(t, func() { _ = wrapped.Error() })
	})
}
