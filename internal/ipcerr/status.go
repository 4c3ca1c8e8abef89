package ipcerr

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// IPRT status codes, spelled as in IPRT so that a reader can grep its sources.
// Values checked against include/iprt/err.h (VirtualBox trunk, 2026). Only the
// codes that localipc returns or that an OS error can be converted to are here.
const (
	VINF_SUCCESS = 0

	VERR_INVALID_PARAMETER = -2
	VERR_INVALID_HANDLE    = -4
	VERR_INVALID_POINTER   = -6
	VERR_NO_MEMORY         = -8
	VERR_INVALID_FLAGS     = -13
	VERR_WRONG_ORDER       = -22
	VERR_UNRESOLVED_ERROR  = -35
	VERR_NOT_SUPPORTED     = -37
	VERR_ACCESS_DENIED     = -38
	VERR_INTERRUPTED       = -39
	VERR_TIMEOUT           = -40
	VERR_TRY_AGAIN         = -52
	VINF_TRY_AGAIN         = 52

	VERR_CODE_POINT_ENDIAN_INDICATOR = -59
	VERR_CODE_POINT_SURROGATE        = -60
	VERR_INVALID_UTF8_ENCODING       = -61

	VERR_NO_UTF16_MEMORY   = -65
	VERR_CANCELLED         = -70
	VERR_INVALID_STATE     = -79
	VINF_OBJECT_DESTROYED  = 85
	VERR_CONCURRENT_ACCESS = -92

	VERR_FILE_NOT_FOUND      = -102
	VERR_PATH_NOT_FOUND      = -103
	VERR_INVALID_NAME        = -104
	VERR_ALREADY_EXISTS      = -105
	VERR_TOO_MANY_OPEN_FILES = -106
	VERR_WRITE_PROTECT       = -113
	VERR_FILENAME_TOO_LONG   = -120
	VERR_NOT_A_DIRECTORY     = -126
	VERR_IS_A_DIRECTORY      = -127
	VERR_RESOURCE_BUSY       = -138
	VERR_DISK_FULL           = -152
	VERR_TOO_MANY_SYMLINKS   = -156
	VERR_DEV_IO_ERROR        = -250

	VERR_PIPE_IO_ERROR      = -300
	VERR_BROKEN_PIPE        = -301
	VERR_BAD_PIPE           = -302
	VERR_PIPE_BUSY          = -303
	VERR_NO_DATA            = -304
	VERR_PIPE_NOT_CONNECTED = -305
	VERR_MORE_DATA          = -306

	VERR_NET_IN_PROGRESS                  = -436
	VERR_NET_NOT_SOCKET                   = -438
	VERR_NET_MSG_SIZE                     = -440
	VERR_NET_OPERATION_NOT_SUPPORTED      = -445
	VERR_NET_ADDRESS_FAMILY_NOT_SUPPORTED = -447
	VERR_NET_ADDRESS_IN_USE               = -448
	VERR_NET_ADDRESS_NOT_AVAILABLE        = -449
	VERR_NET_CONNECTION_ABORTED           = -453
	VERR_NET_CONNECTION_RESET_BY_PEER     = -454
	VERR_NET_NO_BUFFER_SPACE              = -455
	VERR_NET_ALREADY_CONNECTED            = -456
	VERR_NET_NOT_CONNECTED                = -457
	VERR_NET_SHUTDOWN                     = -458
	VERR_NET_CONNECTION_REFUSED           = -461
)

// errStatus pairs an error with its status. Slices rather than maps: the
// tables are scanned in order (the first match wins), and two names for one
// errno (EAGAIN and EWOULDBLOCK) would be a duplicate map key on most systems.
type errStatus struct {
	err    error
	status int
}

type errnoStatus struct {
	errno  syscall.Errno
	status int
}

// sentinelStatus is checked before any errno, so that an error which carries
// both a sentinel and the errno behind it reports what localipc made of it.
// The standard errors follow their localipc twin.
var sentinelStatus = []errStatus{
	{ErrCancelled, VERR_CANCELLED},
	{ErrTimeout, VERR_TIMEOUT},
	{os.ErrDeadlineExceeded, VERR_TIMEOUT},
	{ErrBrokenPipe, VERR_BROKEN_PIPE},
	{io.EOF, VERR_BROKEN_PIPE},
	{io.ErrUnexpectedEOF, VERR_BROKEN_PIPE},
	{ErrTryAgain, VINF_TRY_AGAIN},
	{ErrNotSupported, VERR_NOT_SUPPORTED},
	// The encoding errors match ErrInvalidName (and the code-point ones
	// ErrInvalidUTF8), so they come first, narrowest first.
	{ErrCodePointSurrogate, VERR_CODE_POINT_SURROGATE},
	{ErrCodePointEndianIndicator, VERR_CODE_POINT_ENDIAN_INDICATOR},
	{ErrInvalidUTF8, VERR_INVALID_UTF8_ENCODING},
	{ErrInvalidName, VERR_INVALID_NAME},
	{ErrNameTooLong, VERR_FILENAME_TOO_LONG},
	{ErrInvalidFlags, VERR_INVALID_FLAGS},
	{ErrClosed, VERR_INVALID_HANDLE},
	{net.ErrClosed, VERR_INVALID_HANDLE},
	{ErrAddressInUse, VERR_NET_ADDRESS_IN_USE},
	{ErrNotFound, VERR_FILE_NOT_FOUND},
	{ErrPathNotFound, VERR_PATH_NOT_FOUND},
	{ErrConnectionRefused, VERR_NET_CONNECTION_REFUSED},
	{ErrAccessDenied, VERR_ACCESS_DENIED},
	{ErrPipeBusy, VERR_PIPE_BUSY},
}

// Status returns the IPRT status code for err: VINF_SUCCESS for nil, the code
// of the sentinel err is or wraps, else the conversion of the OS error code
// found in its chain as IPRT converts it, else VERR_UNRESOLVED_ERROR.
func Status(err error) int {
	if err == nil {
		return VINF_SUCCESS
	}
	for _, s := range sentinelStatus {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		for _, e := range errnoTable {
			if e.errno == errno {
				return e.status
			}
		}
	}
	return VERR_UNRESOLVED_ERROR
}
