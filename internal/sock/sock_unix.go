//go:build unix

package sock

import "golang.org/x/sys/unix"

// IgnoringEINTR repeats call while it fails with EINTR: a signal that
// interrupts a system call is not the call's outcome. It is the one such
// loop of the library; every raw call that can see EINTR goes through it.
func IgnoringEINTR[T any](call func() (T, error)) (T, error) {
	for {
		v, err := call()
		if err != unix.EINTR {
			return v, err
		}
	}
}

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

// Read makes one non-blocking read into p: EAGAIN when nothing is there,
// (0, nil) at the end of the stream.
func Read(fd int, p []byte) (int, error) {
	return IgnoringEINTR(func() (int, error) { return unix.Read(fd, p) })
}

// SendAll sends p until the kernel has taken all of it or is full: it returns
// how much went and EAGAIN if that is not all, or the error that stopped it.
// Both faces write through it, the blocking one before it parks and the
// callback one before it queues the rest.
func SendAll(fd int, p []byte) (int, error) {
	sent := 0
	for sent < len(p) {
		n, err := Send(fd, p[sent:])
		if err != nil {
			return sent, err
		}
		sent += n
	}
	return sent, nil
}

// ShutdownWrite half-closes fd: the peer reads the end of the stream.
func ShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// Close closes fd, for descriptors that never became a session.
func Close(fd int) error { return unix.Close(fd) }

// Accept accepts one pending connection without waiting. The new descriptor
// is non-blocking and close-on-exec. It is the one classification of what
// accept(2) says: EINTR and ECONNABORTED (a client that came and went is not
// the server's error) are retried here, EAGAIN means that no client is
// pending, and any other error is the caller's to handle; out of
// descriptors (EMFILE, ENFILE) above all, where each face has a policy of
// its own.
func Accept(fd int) (int, error) {
	for {
		nfd, err := acceptOnce(fd)
		if err != unix.EINTR && err != unix.ECONNABORTED {
			return nfd, err
		}
	}
}
