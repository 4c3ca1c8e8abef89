package session

import (
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
)

// The callback face's verbs on Windows, until the loops' completion ports
// serve it (ReadFile into the loop's buffer, overlapped WriteFile): Serve and
// Dial with a handler report ErrNotSupported there, so no callback session is
// made and none of these runs.

func (c *evConn) recv([]byte) (int, error)              { return 0, ipcerr.ErrNotSupported }
func (c *evConn) send([]byte) (int, error)              { return 0, ipcerr.ErrNotSupported }
func (c *evConn) closeHandle(uintptr)                   {}
func (c *evConn) shutdownWriteOf(uintptr) error         { return ipcerr.ErrNotSupported }
func (c *evConn) peerCredOf(uintptr) (sock.Cred, error) { return sock.Cred{}, ipcerr.ErrNotSupported }
