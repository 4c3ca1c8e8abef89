package localipc

import (
	"context"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/windows"
)

// dial opens the pipe as IPRT's client does: read and write, overlapped (for
// os.NewFile), and with a security quality of service that lets the server
// identify the client only with AllowIdentification; without it the client
// is anonymous, so the server cannot impersonate it. While every instance is
// busy (ERROR_PIPE_BUSY) it tries again with a growing pause, up to 50 ms,
// until ctx ends; IPRT does not retry. With RestrictToUser it then checks
// the server's Windows session and user, as IPRT trunk. No WaitNamedPipe: it holds a thread
// and cannot be bounded by ctx.
func dial(ctx context.Context, path string, flags Flags) (uintptr, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, ipcerr.OSError("CreateFile", path, windows.ERROR_INVALID_NAME)
	}
	attrs := uint32(windows.FILE_FLAG_OVERLAPPED | windows.SECURITY_SQOS_PRESENT | windows.SECURITY_ANONYMOUS)
	if flags&AllowIdentification != 0 {
		attrs = windows.FILE_FLAG_OVERLAPPED | windows.SECURITY_SQOS_PRESENT | windows.SECURITY_IDENTIFICATION
	}
	pause := time.Millisecond
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return 0, newCtxError(path, err)
		}
		h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
			windows.OPEN_EXISTING, attrs, 0)
		if err == nil {
			if flags&RestrictToUser != 0 {
				// IPRT trunk's restricted client checks its server.
				if err := checkServer(h, path); err != nil {
					windows.CloseHandle(h)
					return 0, err
				}
			}
			return uintptr(h), nil
		}
		if err != windows.ERROR_PIPE_BUSY {
			return 0, ipcerr.OSError("CreateFile", path, err)
		}
		if timer == nil {
			timer = time.NewTimer(pause)
		} else {
			timer.Reset(pause)
		}
		select {
		case <-ctx.Done():
			return 0, newCtxError(path, ctx.Err())
		case <-timer.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// ctxError is a Dial ended by its context: it matches the context's error and
// the localipc sentinel for it, as on Unix.
type ctxError struct {
	path          string
	sentinel, err error
}

func newCtxError(path string, err error) error {
	sentinel := ErrCancelled
	if err == context.DeadlineExceeded {
		sentinel = ErrTimeout
	}
	return &ctxError{path: path, sentinel: sentinel, err: err}
}

func (e *ctxError) Error() string   { return "localipc: dial " + e.path + ": " + e.err.Error() }
func (e *ctxError) Unwrap() []error { return []error{e.sentinel, e.err} }
