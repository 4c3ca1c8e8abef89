//go:build !linux

package reactor

import "github.com/localipc/localipc/internal/ipcerr"

// poller on platforms whose kernel queue is not written yet (kqueue on the
// BSDs and macOS, IOCP on Windows): creating a reactor fails with
// ErrNotSupported, and everything else compiles so that the packages above
// build for every GOOS.
type poller struct{}

func newPoller() (*poller, error) { return nil, ipcerr.ErrNotSupported }

func (p *poller) add(fd int, t token) error               { return ipcerr.ErrNotSupported }
func (p *poller) del(fd int) error                        { return ipcerr.ErrNotSupported }
func (p *poller) wait(evs []event, msec int) (int, error) { return 0, ipcerr.ErrNotSupported }
func (p *poller) wake() error                             { return ipcerr.ErrNotSupported }
func (p *poller) fd() int                                 { return -1 }
func (p *poller) close() error                            { return nil }
