package ipcerr

import (
	"errors"
	"os"
	"syscall"
)

// osError is an OS failure as localipc reports it: the message names the
// operation and the path, errors.Is finds the sentinel the errno stands for,
// and the errno itself stays reachable for callers that need the detail.
type osError struct {
	op, path string
	sentinel error // nil when no sentinel fits the errno
	err      *os.SyscallError
}

func (e *osError) Error() string {
	s := "localipc: " + e.op
	if e.path != "" {
		s += " " + e.path
	}
	return s + ": " + e.err.Err.Error()
}

func (e *osError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.err}
	}
	return []error{e.sentinel, e.err}
}

// Timeout and Temporary make an OS failure a net.Error the way net's own
// errors are: servers such as net/http retry an accept that failed on a
// temporary condition (EMFILE, ENFILE, ECONNABORTED) instead of giving up,
// and they test for it with a type assertion, not errors.As.
func (e *osError) Timeout() bool { return errnoOf(e.err.Err).Timeout() }

// Temporary reports whether the errno is one that may pass by itself.
func (e *osError) Temporary() bool { return errnoOf(e.err.Err).Temporary() }

func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	errors.As(err, &errno)
	return errno
}

// OSError wraps err, an errno from the system call behind op on path, so that
// it reads as "localipc: op path: message", matches the sentinel the errno
// stands for under errors.Is (and so reports that sentinel's code through
// Status), and still yields the errno to errors.As and errors.Is. A nil err
// gives nil. path may be empty when the call has none.
func OSError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	e := &osError{op: op, path: path, err: &os.SyscallError{Syscall: op, Err: err}}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		for _, s := range errnoSentinels {
			if s.errno == errno {
				e.sentinel = s.err
				break
			}
		}
	}
	return e
}

type errnoSentinel struct {
	errno syscall.Errno
	err   error
}
