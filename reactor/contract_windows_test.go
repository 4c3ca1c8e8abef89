package reactor

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// The poller contract's handle pair on Windows: the two ends of a connected
// byte-mode named pipe, both overlapped. The registered end goes on the
// poller's port; the peer is on no port, and its writes wait on an event.

var (
	testKernel32             = windows.NewLazySystemDLL("kernel32.dll")
	procPeekNamedPipe        = testKernel32.NewProc("PeekNamedPipe")
	procGetHandleInformation = testKernel32.NewProc("GetHandleInformation")
	procNtQueryObject        = windows.NewLazySystemDLL("ntdll.dll").NewProc("NtQueryObject")
	contractPipes            atomic.Uint64
)

// contractEnd is the far end of a pair, driven by the poller contract test.
type contractEnd struct {
	h      windows.Handle
	closed *bool
}

func contractPair(t *testing.T) (uintptr, contractEnd) {
	t.Helper()
	name := fmt.Sprintf(`\\.\pipe\localipc-reactor-contract-%d-%d`, os.Getpid(), contractPipes.Add(1))
	name16, err := windows.UTF16PtrFromString(name)
	require.NoError(t, err)
	srv, err := windows.CreateNamedPipe(name16,
		windows.PIPE_ACCESS_DUPLEX|windows.FILE_FLAG_OVERLAPPED|windows.FILE_FLAG_FIRST_PIPE_INSTANCE,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		1, 4096, 4096, 0, nil)
	require.NoError(t, err, "CreateNamedPipe")
	cli, err := windows.CreateFile(name16, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED, 0)
	if err != nil {
		windows.CloseHandle(srv)
		require.NoError(t, err, "CreateFile")
	}
	// The client is in already: ConnectNamedPipe says so at once.
	ov := newEventOverlapped(t)
	err = windows.ConnectNamedPipe(srv, ov)
	switch err {
	case windows.ERROR_PIPE_CONNECTED:
		err = nil
	case windows.ERROR_IO_PENDING:
		err = waitOverlapped(srv, ov, nil)
	}
	windows.CloseHandle(ov.HEvent)
	if err != nil {
		windows.CloseHandle(cli)
		windows.CloseHandle(srv)
		require.NoError(t, err, "ConnectNamedPipe")
	}
	peer := contractEnd{h: cli, closed: new(bool)}
	t.Cleanup(func() {
		windows.CloseHandle(srv)
		if !*peer.closed {
			windows.CloseHandle(cli)
		}
	})
	return uintptr(srv), peer
}

// newEventOverlapped returns a heap OVERLAPPED (it must not move while the
// kernel holds it) with a manual-reset event.
func newEventOverlapped(t *testing.T) *windows.Overlapped {
	t.Helper()
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	require.NoError(t, err)
	return &windows.Overlapped{HEvent: ev}
}

// waitOverlapped waits for a pending operation started with ov and returns
// its result, the byte count in *done if done is not nil.
func waitOverlapped(h windows.Handle, ov *windows.Overlapped, done *uint32) error {
	var n uint32
	if done == nil {
		done = &n
	}
	return windows.GetOverlappedResult(h, ov, done, true)
}

func (e contractEnd) write(t *testing.T, p []byte) {
	t.Helper()
	ov := newEventOverlapped(t)
	defer windows.CloseHandle(ov.HEvent)
	var n uint32
	err := windows.WriteFile(e.h, p, &n, ov)
	if err == windows.ERROR_IO_PENDING {
		err = waitOverlapped(e.h, ov, &n)
	}
	require.NoError(t, err, "WriteFile")
	require.Equal(t, len(p), int(n))
}

// readN reads n bytes, waiting for them; any goroutine. The peer is on no
// port: each read waits on an event of its own.
func (e contractEnd) readN(n int) readResult {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return readResult{nil, err}
	}
	defer windows.CloseHandle(ev)
	out := make([]byte, n)
	ov := &windows.Overlapped{HEvent: ev}
	for got := 0; got < n; {
		*ov = windows.Overlapped{HEvent: ev}
		var m uint32
		err := windows.ReadFile(e.h, out[got:], &m, ov)
		if err == windows.ERROR_IO_PENDING {
			err = waitOverlapped(e.h, ov, &m)
		}
		if err != nil {
			return readResult{out[:got], err}
		}
		got += int(m)
	}
	return readResult{out, nil}
}

func (e contractEnd) close(t *testing.T) {
	t.Helper()
	require.False(t, *e.closed)
	*e.closed = true
	require.NoError(t, windows.CloseHandle(e.h))
}

// peekNamedPipe returns how many bytes h has to read.
func peekNamedPipe(h windows.Handle) (uint32, error) {
	var avail uint32
	r, _, err := procPeekNamedPipe.Call(uintptr(h), 0, 0, 0, uintptr(unsafe.Pointer(&avail)), 0)
	if r == 0 {
		return 0, err
	}
	return avail, nil
}

// drain reads h until nothing is left and returns what it read.
func drain(t *testing.T, h uintptr) []byte {
	t.Helper()
	out, err := readAvailable(windows.Handle(h))
	require.NoError(t, err)
	return out
}

// readAvailable reads what has arrived on h, until PeekNamedPipe finds
// nothing. h may be on a poller's port: each read asks for no more than has
// arrived, so it finishes at once and (skip-on-success) posts no packet, and
// the event's low bit set keeps even a pending one off the port.
func readAvailable(h windows.Handle) ([]byte, error) {
	var out []byte
	for {
		avail, err := peekNamedPipe(h)
		if err != nil {
			return out, fmt.Errorf("PeekNamedPipe: %w", err)
		}
		if avail == 0 {
			return out, nil
		}
		ev, err := windows.CreateEvent(nil, 1, 0, nil)
		if err != nil {
			return out, err
		}
		buf := make([]byte, avail)
		ov := &windows.Overlapped{HEvent: ev | 1}
		var n uint32
		err = windows.ReadFile(h, buf, &n, ov)
		if err == windows.ERROR_IO_PENDING {
			_, err = windows.WaitForSingleObject(ev, windows.INFINITE)
			if err == nil {
				err = windows.GetOverlappedResult(h, ov, &n, false)
			}
		}
		windows.CloseHandle(ev)
		if err != nil {
			return out, fmt.Errorf("ReadFile: %w", err)
		}
		out = append(out, buf[:n]...)
	}
}

// readableWithin is never reached: a completion port has no pollable
// descriptor, and the test that would call it skips.
func readableWithin(t *testing.T, fd uintptr, d time.Duration) bool {
	t.Helper()
	t.Fatal("a completion port is not pollable")
	return false
}

// openHandles counts the process's open handles by probing every handle
// value below 1<<14 (multiples of 4, the lowest free one given first), the
// way the Unix helper probes descriptors: GetProcessHandleCount would be
// cheaper, but wine 8 answers it with 0.
func openHandles(t *testing.T) int {
	t.Helper()
	n := 0
	for h := uintptr(4); h < 1<<14; h += 4 {
		var flags uint32
		if r, _, _ := procGetHandleInformation.Call(h, uintptr(unsafe.Pointer(&flags))); r != 0 {
			n++
		}
	}
	require.NotZero(t, n, "no open handle found")
	return n
}

// openPorts counts the process's open completion ports: the handles below
// 1<<14 whose object type is IoCompletion. Unlike openHandles it does not
// move when the runtime starts a thread or Wine opens a handle of its own.
func openPorts(t *testing.T) int {
	t.Helper()
	const objectTypeInformation = 2
	// PUBLIC_OBJECT_TYPE_INFORMATION: a UNICODE_STRING with the type's name,
	// then counters this helper does not read; the name's characters follow
	// in the same buffer.
	type typeInformation struct {
		length, maximumLength uint16
		buffer                *uint16
	}
	buf := make([]uint64, 128)
	n := 0
	for h := uintptr(4); h < 1<<14; h += 4 {
		var flags uint32
		if r, _, _ := procGetHandleInformation.Call(h, uintptr(unsafe.Pointer(&flags))); r == 0 {
			continue
		}
		var size uint32
		status, _, _ := procNtQueryObject.Call(h, objectTypeInformation,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)*8), uintptr(unsafe.Pointer(&size)))
		if status != 0 {
			continue // a handle closed since GetHandleInformation, or one whose type cannot be read
		}
		info := (*typeInformation)(unsafe.Pointer(&buf[0]))
		if windows.UTF16ToString(unsafe.Slice(info.buffer, info.length/2)) == "IoCompletion" {
			n++
		}
	}
	return n
}

// pollerHandles counts what a poller may leave open: on Windows its
// completion port. Every handle would do as well but for the runtime's
// threads and Wine's own handles, which move that count by four either way.
func pollerHandles(t *testing.T) int { return openPorts(t) }
