package session

import (
	"fmt"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/windows"
)

// The callback face on Windows waits for its verbs over the loops'
// completion ports (ReadFile into the loop's buffer after the zero-byte
// read, an overlapped WriteFile submitted through the poller): until then
// CallbackFace says so, Attach refuses, and none of the verbs below runs.

var errNoCallbackFace = fmt.Errorf("%w: sessions served by callbacks on Windows", ipcerr.ErrNotSupported)

// CallbackFace reports whether sessions can be served by callbacks here.
func CallbackFace() error { return errNoCallbackFace }

func closeHandle(h uintptr) { windows.CloseHandle(windows.Handle(h)) }

func (c *evConn) recv([]byte) (int, error)              { return 0, ipcerr.ErrNotSupported }
func (c *evConn) send([]byte) (int, error)              { return 0, ipcerr.ErrNotSupported }
func (c *evConn) shutdownWriteOf(uintptr) error         { return ipcerr.ErrNotSupported }
func (c *evConn) peerCredOf(uintptr) (sock.Cred, error) { return sock.Cred{}, ipcerr.ErrNotSupported }
