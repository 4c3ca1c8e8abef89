//go:build unix

package session

import "golang.org/x/sys/unix"

// The few system calls whose form differs between Unix and Windows; the
// session logic above them is shared.

func sysRead(fd uintptr, p []byte) (int, error) { return unix.Read(int(fd), p) }

// sysPeek reports how many bytes (0 or 1) a read would return now, without
// consuming them: 0 with a nil error is the end of the stream.
func sysPeek(fd uintptr) (int, error) {
	var b [1]byte
	n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return n, err
}

func sysShutdownWrite(fd uintptr) error { return unix.Shutdown(int(fd), unix.SHUT_WR) }

func sysClose(fd int) error { return unix.Close(fd) }
