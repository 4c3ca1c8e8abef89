package winapi

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// What golang.org/x/sys/windows (v0.50.0) lacks for the reactor's completion
// port: GetQueuedCompletionStatusEx and its OVERLAPPED_ENTRY.

// OverlappedEntry is OVERLAPPED_ENTRY: one dequeued completion packet. The
// layout is the runtime's own overlappedEntry (runtime/netpoll_windows.go):
// 32 bytes on 64-bit Windows, 16 on 386.
type OverlappedEntry struct {
	CompletionKey            uintptr
	Overlapped               *windows.Overlapped
	Internal                 uintptr // the NTSTATUS of the operation
	NumberOfBytesTransferred uint32
}

var (
	iocpKernel32                    = windows.NewLazySystemDLL("kernel32.dll")
	procGetQueuedCompletionStatusEx = iocpKernel32.NewProc("GetQueuedCompletionStatusEx")
)

// GetQueuedCompletionStatusEx dequeues up to len(entries) completion packets
// from port, waiting up to timeout milliseconds (windows.INFINITE blocks) for
// the first one, and stores how many it removed in *removed. An empty port
// after timeout is windows.WAIT_TIMEOUT.
func GetQueuedCompletionStatusEx(port windows.Handle, entries []OverlappedEntry, removed *uint32, timeout uint32, alertable bool) error {
	if len(entries) == 0 {
		*removed = 0
		return nil
	}
	var alert uintptr
	if alertable {
		alert = 1
	}
	r1, _, e1 := syscall.SyscallN(procGetQueuedCompletionStatusEx.Addr(),
		uintptr(port), uintptr(unsafe.Pointer(&entries[0])), uintptr(len(entries)),
		uintptr(unsafe.Pointer(removed)), uintptr(timeout), alert)
	if r1 == 0 {
		if e1 == 0 {
			return syscall.EINVAL
		}
		return e1
	}
	return nil
}
