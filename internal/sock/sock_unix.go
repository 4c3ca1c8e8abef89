//go:build unix

package sock

import "golang.org/x/sys/unix"

// Socket returns a new unconnected AF_UNIX stream socket, non-blocking and
// close-on-exec.
func Socket() (int, error) { return newSocket() }

// Connect makes one non-blocking connect of fd to path. On Linux a full
// accept queue gives EAGAIN, where a blocking connect would wait.
func Connect(fd int, path string) error {
	_, sa, err := sockAddr(path)
	if err != nil {
		return err
	}
	return unix.Connect(fd, sa)
}

// Close closes fd, for descriptors that never became a session.
func Close(fd int) error { return unix.Close(fd) }
