package reactor

import (
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
)

// parker is never made on Windows: a completion port is not a pollable
// descriptor (its poller's pollable reports none), so the loop blocks in
// GetQueuedCompletionStatusEx instead.
type parker struct{}

func newParker(uintptr, func() int) (*parker, error) { return nil, ipcerr.ErrNotSupported }

func (p *parker) park(time.Time) int { return 0 }

func (p *parker) close() error { return nil }
