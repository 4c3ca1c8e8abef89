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

// GetProcessHandleCount returns the number of handles the process has open:
// the tests' leak check, as /proc/self/fd is on Linux.
func GetProcessHandleCount() (uint32, error) {
	var n uint32
	r, _, e := procGetProcessHandleCount.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		return 0, errnoOf(e)
	}
	return n, nil
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
