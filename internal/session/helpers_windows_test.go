package session_test

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

var pipeSeq atomic.Int64

// pipeBuffer is the pair's buffer size each way, as Listen makes its pipes.
const pipeBuffer = 64 << 10

// socketpair returns the two ends of a connected byte-mode named pipe, both
// overlapped and on no completion port, as New and Attach take them: the
// server end first, as Listen makes it, then the client end, as Dial opens
// it. Whoever gets an end owns it; the caller closes neither.
func socketpair(t testing.TB) (a, b uintptr) {
	t.Helper()
	name, err := windows.UTF16PtrFromString(fmt.Sprintf(`\\.\pipe\localipc-test-%d-%d`, os.Getpid(), pipeSeq.Add(1)))
	require.NoError(t, err)
	srv, err := windows.CreateNamedPipe(name,
		windows.PIPE_ACCESS_DUPLEX|windows.FILE_FLAG_OVERLAPPED|windows.FILE_FLAG_FIRST_PIPE_INSTANCE,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		1, pipeBuffer, pipeBuffer, 0, nil)
	require.NoError(t, err, "CreateNamedPipe")
	// The connect is made overlapped on an event of its own, and the OVERLAPPED
	// lives on the heap until the connect has completed.
	ov := new(windows.Overlapped)
	ov.HEvent, err = windows.CreateEvent(nil, 1, 0, nil)
	require.NoError(t, err)
	defer windows.CloseHandle(ov.HEvent)
	cerr := windows.ConnectNamedPipe(srv, ov)
	cli, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_ANONYMOUS, 0)
	if err != nil {
		windows.CancelIoEx(srv, ov)
	}
	if cerr == windows.ERROR_IO_PENDING {
		var n uint32
		cerr = windows.GetOverlappedResult(srv, ov, &n, true)
	}
	if err != nil || (cerr != nil && cerr != windows.ERROR_PIPE_CONNECTED) {
		windows.CloseHandle(srv)
		if err == nil {
			windows.CloseHandle(cli)
		}
		require.NoError(t, err, "CreateFile")
		require.NoError(t, cerr, "ConnectNamedPipe")
	}
	return uintptr(srv), uintptr(cli)
}

// fillSendBuffer writes to the pipe behind rc until it takes no more, so
// that the next Write of a session on it blocks until the peer reads. It
// returns how many bytes it wrote. Its writes are overlapped on an event
// whose low bit is set, so that no completion reaches the runtime's port,
// and one that pends is cancelled and waited for: what it took is counted,
// and the next one is half as long, down to a byte.
func fillSendBuffer(t testing.TB, rc syscall.RawConn) int {
	t.Helper()
	total := 0
	var werr error
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	require.NoError(t, err)
	defer windows.CloseHandle(ev)
	op := new(struct {
		ov  windows.Overlapped
		buf [pipeBuffer]byte
	})
	require.NoError(t, rc.Control(func(fd uintptr) {
		h := windows.Handle(fd)
		for chunk := len(op.buf); chunk > 0; {
			op.ov = windows.Overlapped{HEvent: ev | 1}
			var n uint32
			err := windows.WriteFile(h, op.buf[:chunk], &n, &op.ov)
			if err == windows.ERROR_IO_PENDING {
				windows.CancelIoEx(h, &op.ov)
				windows.WaitForSingleObject(ev, windows.INFINITE)
				err = windows.GetOverlappedResult(h, &op.ov, &n, false)
				if err == windows.ERROR_OPERATION_ABORTED {
					err = nil
				}
				chunk /= 2
			}
			total += int(n)
			if err != nil {
				werr = err
				return
			}
		}
	}))
	require.NoError(t, werr)
	return total
}

// writeToClosedPeer is the Win32 code of a Write whose peer has closed: the
// pipe is being closed (IPRT's Write maps it to VERR_BROKEN_PIPE).
var writeToClosedPeer error = windows.ERROR_NO_DATA

// closedWithUnread is what a Read gets when its peer closed with bytes of
// ours unread: a pipe drops them and reports the end of the stream.
var closedWithUnread error = io.EOF
