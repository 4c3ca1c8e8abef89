//go:build linux

package workload

import (
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// serveOSFile echoes on a bare os.File over each accepted socket: the path
// the blocking face reads and parks on, without the Session around it. Set
// beside localipc-blocking and net, it splits what the blocking face costs
// more than net into os.File's part and the Session layer's
// (docs/benchmarks.md).
func serveOSFile(path string, sink bool) (func() error, error) {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	accept := func() (*os.File, error) {
		c, err := l.Accept()
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return nonBlockingCopy(c.(*net.UnixConn))
	}
	return goroutinePerSession(accept, l.Close, func(f *os.File) { echoOrSink(f, sink) }), nil
}

// nonBlockingCopy is an os.File of a copy of c's descriptor, non-blocking so
// that the file parks in the runtime poller as the blocking face's does
// (UnixConn.File would leave the copy blocking, a thread per parked read).
func nonBlockingCopy(c *net.UnixConn) (*os.File, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, os.NewSyscallError("fcntl", dupErr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), "osfile"), nil
}
