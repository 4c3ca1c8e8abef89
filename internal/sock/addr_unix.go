//go:build unix

package sock

import (
	"fmt"
	"strings"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// sunPathSize is sizeof(sun_path); a path must fit with its NUL.
const sunPathSize = len(unix.RawSockaddrUnix{}.Path)

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
	case path[0] == '@':
		path = "./" + path
	}
	if len(path)+1 > sunPathSize {
		return "", nil, fmt.Errorf("%w: socket path %q is %d bytes, sun_path takes at most %d",
			ipcerr.ErrNameTooLong, path, len(path), sunPathSize-1)
	}
	return path, &unix.SockaddrUnix{Name: path}, nil
}
