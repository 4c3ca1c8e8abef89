package winapi

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")
	ntdll    = windows.NewLazySystemDLL("ntdll.dll")

	procPeekNamedPipe         = kernel32.NewProc("PeekNamedPipe")
	procGetNamedPipeClientSID = kernel32.NewProc("GetNamedPipeClientSessionId")
	procGetNamedPipeServerSID = kernel32.NewProc("GetNamedPipeServerSessionId")
	procGetProcessHandleCount = kernel32.NewProc("GetProcessHandleCount")
	procWineGetVersion        = ntdll.NewProc("wine_get_version")
)

// PeekNamedPipe reports how many bytes a read of the pipe would find, without
// consuming any (kernel32 PeekNamedPipe with no buffer). It never blocks, also
// on an overlapped handle, and fails with ERROR_BROKEN_PIPE once the peer is
// gone. In byte mode that is all it tells.
func PeekNamedPipe(h windows.Handle) (avail uint32, err error) {
	r, _, e := procPeekNamedPipe.Call(uintptr(h), 0, 0, 0, uintptr(unsafe.Pointer(&avail)), 0)
	if r == 0 {
		return 0, errnoOf(e)
	}
	return avail, nil
}

// GetNamedPipeClientSessionId returns the Windows session of the client on
// the server end h.
func GetNamedPipeClientSessionId(h windows.Handle) (uint32, error) {
	return sessionID(procGetNamedPipeClientSID, h)
}

// GetNamedPipeServerSessionId returns the Windows session of the server on
// the client end h.
func GetNamedPipeServerSessionId(h windows.Handle) (uint32, error) {
	return sessionID(procGetNamedPipeServerSID, h)
}

func sessionID(proc *windows.LazyProc, h windows.Handle) (uint32, error) {
	var id uint32
	r, _, e := proc.Call(uintptr(h), uintptr(unsafe.Pointer(&id)))
	if r == 0 {
		return 0, errnoOf(e)
	}
	return id, nil
}

// GetProcessHandleCount returns the number of handles the process has open
// (kernel32 GetProcessHandleCount). The runtime's own threads and events are
// among them; FileHandleCount counts only files. Wine 8 answers 0.
func GetProcessHandleCount() (uint32, error) {
	var n uint32
	r, _, e := procGetProcessHandleCount.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		return 0, errnoOf(e)
	}
	return n, nil
}

// FileHandleCount returns the number of file handles (pipes among them) the
// process has open: the tests' leak check, as /proc/self/fd is on Linux. It
// reads the system handle table (NtQuerySystemInformation,
// SystemHandleInformation), learns the file type's index from a pipe it
// opens for the purpose, and counts this process's entries of that type, so
// that the threads, events and timers the runtime makes as it goes do not
// count. The table holds the low 16 bits of each process id. Not under
// Wine 8: the query crashes its wineserver now and then.
func FileHandleCount() (uint32, error) {
	var r, w windows.Handle
	if err := windows.CreatePipe(&r, &w, nil, 0); err != nil {
		return 0, err
	}
	entries, err := handleTable()
	windows.CloseHandle(r)
	windows.CloseHandle(w)
	if err != nil {
		return 0, err
	}
	pid := uint16(windows.GetCurrentProcessId())
	fileType, found := uint8(0), false
	for _, e := range entries {
		if e.ProcessID == pid && windows.Handle(e.Handle) == r&0xffff {
			fileType, found = e.ObjectType, true
		}
	}
	if !found {
		return 0, windows.ERROR_NOT_FOUND
	}
	var n uint32
	for _, e := range entries {
		if e.ProcessID == pid && e.ObjectType == fileType {
			n++
		}
	}
	return n - 2, nil // not the probe's two ends
}

// systemHandleEntry is SYSTEM_HANDLE_TABLE_ENTRY_INFO.
type systemHandleEntry struct {
	ProcessID      uint16
	BackTraceIndex uint16
	ObjectType     uint8
	Attributes     uint8
	Handle         uint16
	Object         uintptr
	GrantedAccess  uint32
}

// handleTable returns the system handle table.
func handleTable() ([]systemHandleEntry, error) {
	const statusInfoLengthMismatch = windows.NTStatus(0xC0000004)
	buf := make([]byte, 1<<16)
	for {
		var got uint32
		err := windows.NtQuerySystemInformation(windows.SystemHandleInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &got)
		if err == statusInfoLengthMismatch {
			buf = make([]byte, max(2*len(buf), int(got)+4096))
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	// { ULONG NumberOfHandles; entries aligned as a pointer }
	count := *(*uint32)(unsafe.Pointer(&buf[0]))
	off := unsafe.Sizeof(uintptr(0))
	entries := unsafe.Slice((*systemHandleEntry)(unsafe.Pointer(&buf[off])), count)
	return append([]systemHandleEntry(nil), entries...), nil
}

var wine struct {
	once    sync.Once
	version string
}

// WineVersion returns Wine's version ("8.0") when the program runs under
// Wine, detected by ntdll's wine_get_version export, and "" on Windows. Tests
// use it to skip what Wine does not do as Windows does.
func WineVersion() string {
	wine.once.Do(func() {
		if procWineGetVersion.Find() != nil {
			return
		}
		r, _, _ := procWineGetVersion.Call()
		if r != 0 {
			// r points into ntdll, not into Go memory.
			wine.version = windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
		}
	})
	return wine.version
}

// errnoOf keeps a LazyProc's error an Errno, never a nil Errno taken for a
// failure with no code.
func errnoOf(e error) error {
	if errno, ok := e.(windows.Errno); ok && errno != 0 {
		return errno
	}
	return windows.ERROR_GEN_FAILURE
}
