package sock

import (
	"context"
	"os"

	"github.com/localipc/localipc/internal/ipcerr"
)

// On Windows localipc uses named pipes; these exist so that the packages
// above compile, and each says so.

// SendFlags is unused on Windows.
const SendFlags = 0

// Listen is not supported on Windows.
func Listen(path string, cfg ListenConfig) (fd int, ino uint64, err error) {
	return -1, 0, ipcerr.ErrNotSupported
}

// Unlink is not supported on Windows.
func Unlink(path string, ino uint64) error { return ipcerr.ErrNotSupported }

// Accept is not supported on Windows.
func Accept(fd int) (int, error) { return -1, ipcerr.ErrNotSupported }

// Socket is not supported on Windows.
func Socket() (int, error) { return -1, ipcerr.ErrNotSupported }

// Connect is not supported on Windows.
func Connect(fd int, path string) error { return ipcerr.ErrNotSupported }

// Dial is not supported on Windows.
func Dial(ctx context.Context, path string) (int, error) { return -1, ipcerr.ErrNotSupported }

// PeerCred is not supported on Windows.
func PeerCred(fd int) (Cred, error) { return noCred, ipcerr.ErrNotSupported }

// Send is not supported on Windows.
func Send(fd int, p []byte) (int, error) { return 0, ipcerr.ErrNotSupported }

// Close is never reached on Windows: no call above returns a descriptor.
func Close(fd int) error { return ipcerr.ErrNotSupported }

// Chmod is never reached on Windows: no server is made there.
func Chmod(path string, ino uint64, mode os.FileMode) error { return ipcerr.ErrNotSupported }

// Chown is never reached on Windows: no server is made there.
func Chown(path string, ino uint64, gid int) error { return ipcerr.ErrNotSupported }
