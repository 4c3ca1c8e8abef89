//go:build unix

package session

import (
	"github.com/localipc/localipc/internal/sock"
	"golang.org/x/sys/unix"
)

// The callback face's I/O verbs on Unix: non-blocking system calls on the
// session's socket, made on its loop (recv) or under its mu (send), and
// complete when they return.

// recv reads what the kernel has into buf: (0, nil) at the end of the
// stream, errWouldBlock when it has nothing (the next readable edge will
// come).
func (c *evConn) recv(buf []byte) (int, error) {
	n, err := c.ls.sys.read(int(c.h), buf)
	if err == unix.EAGAIN {
		return 0, errWouldBlock
	}
	return max(n, 0), err
}

// send sends p until the kernel is full: errWouldBlock with what went, if
// that is not all (the next writable edge will come). Caller holds mu.
func (c *evConn) send(p []byte) (int, error) {
	n, err := sock.SendAll(int(c.h), p)
	if err == unix.EAGAIN {
		err = errWouldBlock
	}
	return n, err
}

// sysLoop is what a loop's sessions share per system: on Unix a read needs
// nothing (on Windows, the OVERLAPPED of its reads).
type sysLoop struct{}

// read is one non-blocking read(2).
func (sysLoop) read(fd int, buf []byte) (int, error) { return sock.Read(fd, buf) }

// watchEnd has nothing to do for a cancelled session: the socket's hang-up
// edge comes whether or not its data is read.
func (c *evConn) watchEnd() {}

// CallbackFace reports whether sessions can be served by callbacks here:
// on Unix they can.
func CallbackFace() error { return nil }

func closeHandle(h uintptr) { sock.Close(int(h)) }

func (c *evConn) shutdownWriteOf(h uintptr) error { return sock.ShutdownWrite(int(h)) }

func (c *evConn) peerCredOf(h uintptr) (sock.Cred, error) { return sock.PeerCred(int(h)) }
