// Package ipcerr holds the sentinel errors of localipc and their mapping to
// IPRT status codes. It sits below every other package (reactor, session and
// the facade) so that each layer can return the same sentinels; the facade
// re-exports them under the names users type.
package ipcerr

import (
	"errors"
	"net"
	"os"
)

// sentinel is a comparable error whose Is method lets it match a standard
// library sentinel too (net.ErrClosed, os.ErrDeadlineExceeded), so code written
// against net keeps working on localipc errors.
type sentinel struct {
	msg     string
	also    error // matched by errors.Is besides the sentinel itself; may be nil
	timeout bool  // reported by Timeout(), making the error a net.Error
}

func (e *sentinel) Error() string { return e.msg }

// Is reports whether target is the error this sentinel refines, or one that
// error matches in turn: ErrCodePointSurrogate is an ErrInvalidUTF8, which is
// an ErrInvalidName.
func (e *sentinel) Is(target error) bool { return e.also != nil && errors.Is(e.also, target) }

// Timeout is true for the timeout sentinels, so that they satisfy net.Error the
// way os.ErrDeadlineExceeded does.
func (e *sentinel) Timeout() bool { return e.timeout }

// Temporary is part of net.Error; like Go's net package we report timeouts as
// temporary and nothing else.
func (e *sentinel) Temporary() bool { return e.timeout }

// The sentinels. Each maps to exactly one IPRT status through Status.
var (
	ErrCancelled         error = &sentinel{msg: "localipc: operation cancelled"}
	ErrTimeout           error = &sentinel{msg: "localipc: timed out", also: os.ErrDeadlineExceeded, timeout: true}
	ErrBrokenPipe        error = &sentinel{msg: "localipc: broken pipe"}
	ErrTryAgain          error = &sentinel{msg: "localipc: no data available, try again"}
	ErrNotSupported      error = &sentinel{msg: "localipc: not supported on this platform"}
	ErrInvalidName       error = &sentinel{msg: "localipc: invalid name"}
	ErrNameTooLong       error = &sentinel{msg: "localipc: name too long"}
	ErrInvalidFlags      error = &sentinel{msg: "localipc: invalid flags"}
	ErrClosed            error = &sentinel{msg: "use of closed network connection", also: net.ErrClosed}
	ErrAddressInUse      error = &sentinel{msg: "localipc: address in use"}
	ErrNotFound          error = &sentinel{msg: "localipc: no such server"}
	ErrConnectionRefused error = &sentinel{msg: "localipc: connection refused"}
	ErrAccessDenied      error = &sentinel{msg: "localipc: access denied"}
	ErrPipeBusy          error = &sentinel{msg: "localipc: all pipe instances are busy"}
	ErrPathNotFound      error = &sentinel{msg: "localipc: path not found"}
)

// The encoding errors of a native name. IPRT has a code of its own for each,
// but to a Go caller all three are an invalid name: each matches
// ErrInvalidName under errors.Is, so code that tested ErrInvalidName before
// these existed still catches them, and the two code-point errors match
// ErrInvalidUTF8 as well. Status reports the most specific code, since the
// status table lists them before ErrInvalidName.
var (
	ErrInvalidUTF8              error = &sentinel{msg: "localipc: invalid UTF-8 encoding", also: ErrInvalidName}
	ErrCodePointSurrogate       error = &sentinel{msg: "localipc: UTF-16 surrogate code point", also: ErrInvalidUTF8}
	ErrCodePointEndianIndicator error = &sentinel{msg: "localipc: code point U+FFFE or U+FFFF", also: ErrInvalidUTF8}
)

var _ net.Error = ErrTimeout.(net.Error)
