package reactor

import (
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
)

// parker is unused on Windows: a completion port is not a pollable
// descriptor, and the IOCP loop (a later issue) blocks in
// GetQueuedCompletionStatusEx instead.
type parker struct{}

func newParker(int, func() int) (*parker, error) { return nil, ipcerr.ErrNotSupported }

func (p *parker) park(time.Time) int { return 0 }

func (p *parker) close() error { return nil }
