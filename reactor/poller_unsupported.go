//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package reactor

import "github.com/localipc/localipc/internal/ipcerr"

// On platforms whose kernel queue is not written yet (IOCP on Windows, and
// any system with neither epoll nor kqueue) creating a reactor fails with
// ErrNotSupported; everything else compiles, so that the packages above
// build for every GOOS.
func newPoller() (kernelQueue, error) { return nil, ipcerr.ErrNotSupported }
