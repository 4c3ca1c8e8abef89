package localipc

import "context"

// dial on Windows comes with the named-pipe port.
func dial(ctx context.Context, path string) (uintptr, error) { return 0, ErrNotSupported }
