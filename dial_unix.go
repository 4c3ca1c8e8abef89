//go:build unix

package localipc

import (
	"context"

	"github.com/localipc/localipc/internal/sock"
)

// dial connects a new socket to path; a full backlog makes it wait, bounded
// by ctx, as a blocking connect would.
func dial(ctx context.Context, path string, _ Flags) (uintptr, error) {
	fd, err := sock.Dial(ctx, path)
	return uintptr(fd), err
}
