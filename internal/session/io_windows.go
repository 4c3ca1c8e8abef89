package session

import "github.com/localipc/localipc/internal/ipcerr"

// Sessions are not made on Windows until the named-pipe port lands: Dial and
// Listen report ErrNotSupported there, so these are never reached.

func sysRead(fd uintptr, p []byte) (int, error) { return 0, ipcerr.ErrNotSupported }

func sysPeek(fd uintptr) (int, error) { return 0, ipcerr.ErrNotSupported }

func sysShutdownWrite(fd uintptr) error { return ipcerr.ErrNotSupported }

func sysClose(fd int) error { return ipcerr.ErrNotSupported }
