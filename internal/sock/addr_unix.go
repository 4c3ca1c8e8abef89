//go:build unix

package sock

import (
	"fmt"
	"strings"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// SunPathSize is sizeof(sun_path): 108 on Linux, 104 on the BSDs and macOS.
// A path must fit with its terminating NUL, as IPRT passes it.
const SunPathSize = len(unix.RawSockaddrUnix{}.Path)

// FitPath reports ipcerr.ErrNameTooLong if path, as the kernel will get it
// (a leading '@' spelled "./@", see sockAddr), does not fit sun_path with
// its NUL. It is the one length rule: names are checked with it before any
// system call, and every bind and connect goes through it again.
func FitPath(path string) error {
	if fitsSunPath(path, SunPathSize) {
		return nil
	}
	kernelPath := path
	if strings.HasPrefix(path, "@") {
		kernelPath = "./" + path
	}
	return fmt.Errorf("%w: socket path %q is %d bytes, sun_path takes at most %d",
		ipcerr.ErrNameTooLong, kernelPath, len(kernelPath), SunPathSize-1)
}

// sockAddr turns a socket path into the file-system path that names the same
// file and the address to bind or connect to. x/sys reads a leading '@' (or
// NUL) as Linux's abstract namespace and an empty name as "pick one for me";
// a localipc path is always a file, so '@' is spelled "./@" and the others are
// refused.
func sockAddr(path string) (string, *unix.SockaddrUnix, error) {
	switch {
	case path == "":
		return "", nil, fmt.Errorf("%w: empty socket path", ipcerr.ErrInvalidName)
	case strings.IndexByte(path, 0) >= 0:
		return "", nil, fmt.Errorf("%w: socket path %q holds a NUL byte", ipcerr.ErrInvalidName, path)
	}
	if err := FitPath(path); err != nil {
		return "", nil, err
	}
	if path[0] == '@' {
		path = "./" + path
	}
	return path, &unix.SockaddrUnix{Name: path}, nil
}
