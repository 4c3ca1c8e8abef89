package localipc

import (
	"os"

	"github.com/localipc/localipc/internal/sock"
)

// Until the named-pipe port lands (\\.\pipe\IPRT-<name> with pending
// instances on the loops' completion ports), Listen and Serve on Windows
// report ErrNotSupported, and no endpoint is ever made.

type endpoint struct{ path string }

func listen(path string, flags Flags, o *options, parkable bool) (endpoint, error) {
	return endpoint{}, ErrNotSupported
}

func (e *endpoint) accept() (uintptr, bool, error) { return 0, false, ErrNotSupported }
func (e *endpoint) interrupt()                     {}
func (e *endpoint) release() error                 { return nil }
func (e *endpoint) close() error                   { return nil }
func (e *endpoint) chmod(os.FileMode) error        { return ErrNotSupported }
func (e *endpoint) chown(int) error                { return ErrNotSupported }
func peerCredOf(uintptr) (sock.Cred, error)        { return sock.Cred{}, ErrNotSupported }
func closeHandle(uintptr)                          {}
