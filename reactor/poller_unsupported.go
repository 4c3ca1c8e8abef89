//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package reactor

import "github.com/localipc/localipc/internal/ipcerr"

// On a system with neither epoll, kqueue nor a completion port, creating a
// reactor fails with ErrNotSupported; everything else compiles, so that the
// packages above build for every GOOS.
func newPoller() (kernelQueue, error) { return nil, ipcerr.ErrNotSupported }
