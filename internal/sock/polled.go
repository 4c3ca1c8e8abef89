package sock

import (
	"os"
	"syscall"
	"time"
)

// OpenPolled makes an os.File of fd (a descriptor, or an overlapped handle
// on Windows) on Go's runtime poller, and returns it with its RawConn. A
// descriptor the runtime refused would have no deadlines: a call blocked on
// it could be neither cancelled nor timed out, and a loop parked on it would
// hold a thread. OpenPolled then closes the file and returns the error. The
// file owns fd from then on, also when OpenPolled fails.
func OpenPolled(fd uintptr, name string) (*os.File, syscall.RawConn, error) {
	f := os.NewFile(fd, name)
	rc, err := PolledConn(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

// PolledConn is OpenPolled for a file made already, which it leaves open
// when it fails: a listener must remove its socket file before the close.
func PolledConn(f *os.File) (syscall.RawConn, error) {
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetDeadline(time.Time{}) // fails if the runtime refused f
	}
	if err != nil {
		return nil, err
	}
	return rc, nil
}
