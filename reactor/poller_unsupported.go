//go:build !linux && !windows

package reactor

import "github.com/localipc/localipc/internal/ipcerr"

// On platforms whose kernel queue is not written yet (kqueue on the BSDs and
// macOS, IOCP on Windows) creating a reactor fails with ErrNotSupported;
// everything else compiles, so that the packages above build for every GOOS.
func newPoller() (kernelQueue, error) { return nil, ipcerr.ErrNotSupported }
