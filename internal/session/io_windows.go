package session

import (
	"syscall"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
)

// The I/O verbs of both faces on Windows, until the named-pipe port replaces
// this file with blocking_windows.go (os.File over an overlapped pipe
// handle) and callback_windows.go (the loop's completion port): Dial and
// Listen report ErrNotSupported there, so no session is ever made and none
// of these runs.

type conn struct{}

func (c *conn) init(uintptr) error                      { return ipcerr.ErrNotSupported }
func (c *conn) read([]byte) (int, error, error)         { return 0, nil, ipcerr.ErrNotSupported }
func (c *conn) readNow([]byte) (int, error, error)      { return 0, nil, ipcerr.ErrNotSupported }
func (c *conn) write([]byte) (int, error, error)        { return 0, nil, ipcerr.ErrNotSupported }
func (c *conn) peek(bool) (peekState, error, error)     { return peekNothing, nil, ipcerr.ErrNotSupported }
func (c *conn) setReadDeadline(time.Time) error         { return ipcerr.ErrNotSupported }
func (c *conn) setWriteDeadline(time.Time) error        { return ipcerr.ErrNotSupported }
func (c *conn) interrupt()                              {}
func (c *conn) closeWrite() (error, error)              { return nil, ipcerr.ErrNotSupported }
func (c *conn) peerCred() (sock.Cred, error, error)     { return sock.Cred{}, nil, ipcerr.ErrNotSupported }
func (c *conn) rawConn() syscall.RawConn                { return nil }
func (c *conn) close() error                            { return nil }
func (c *evConn) recv([]byte) (int, error)              { return 0, ipcerr.ErrNotSupported }
func (c *evConn) send([]byte) (int, error)              { return 0, ipcerr.ErrNotSupported }
func (c *evConn) closeHandle(uintptr)                   {}
func (c *evConn) shutdownWriteOf(uintptr) error         { return ipcerr.ErrNotSupported }
func (c *evConn) peerCredOf(uintptr) (sock.Cred, error) { return sock.Cred{}, ipcerr.ErrNotSupported }
