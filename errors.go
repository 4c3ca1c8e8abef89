package localipc

import "github.com/localipc/localipc/internal/ipcerr"

// The errors localipc returns, possibly wrapped: test them with errors.Is.
// Each stands for one IPRT status code, which Status reports.
var (
	// ErrCancelled: Cancel was called on the server or session (VERR_CANCELLED, -70).
	ErrCancelled = ipcerr.ErrCancelled
	// ErrTimeout: a timeout or deadline passed (VERR_TIMEOUT, -40). It matches
	// os.ErrDeadlineExceeded and is a net.Error whose Timeout is true.
	ErrTimeout = ipcerr.ErrTimeout
	// ErrBrokenPipe: the peer is gone (VERR_BROKEN_PIPE, -301).
	ErrBrokenPipe = ipcerr.ErrBrokenPipe
	// ErrTryAgain: a non-blocking call found nothing to do (VINF_TRY_AGAIN, +52,
	// which IPRT counts as success).
	ErrTryAgain = ipcerr.ErrTryAgain
	// ErrNotSupported: not available on this platform (VERR_NOT_SUPPORTED, -37).
	ErrNotSupported = ipcerr.ErrNotSupported
	// ErrInvalidName: the name breaks IPRT's rules (VERR_INVALID_NAME, -104).
	ErrInvalidName = ipcerr.ErrInvalidName
	// ErrInvalidUTF8: a native name that IPRT's RTStrValidateEncoding refuses
	// (VERR_INVALID_UTF8_ENCODING, -61). It is an addition to the sentinels
	// above and matches ErrInvalidName too, so code that tests ErrInvalidName
	// keeps working; Status reports IPRT's code, which is -61 for a malformed
	// sequence, -60 (VERR_CODE_POINT_SURROGATE) for an encoded surrogate and
	// -59 (VERR_CODE_POINT_ENDIAN_INDICATOR) for U+FFFE or U+FFFF, all three
	// matching ErrInvalidUTF8.
	ErrInvalidUTF8 = ipcerr.ErrInvalidUTF8
	// ErrNameTooLong: the socket path does not fit sun_path (VERR_FILENAME_TOO_LONG, -120).
	ErrNameTooLong = ipcerr.ErrNameTooLong
	// ErrInvalidFlags: a flag the call does not accept (VERR_INVALID_FLAGS, -13).
	ErrInvalidFlags = ipcerr.ErrInvalidFlags
	// ErrClosed: the server or session is closed (VERR_INVALID_HANDLE, -4). It
	// matches net.ErrClosed.
	ErrClosed = ipcerr.ErrClosed
	// ErrAddressInUse: a live server holds the name (VERR_NET_ADDRESS_IN_USE, -448).
	ErrAddressInUse = ipcerr.ErrAddressInUse
	// ErrNotFound: no server by that name (VERR_FILE_NOT_FOUND, -102).
	ErrNotFound = ipcerr.ErrNotFound
	// ErrPathNotFound: RestrictToUser found no private runtime directory and no
	// home directory to put ~/.iprt-localipc in (VERR_PATH_NOT_FOUND, -103). An
	// addition to the sentinels above; the reason stays in the chain.
	ErrPathNotFound = ipcerr.ErrPathNotFound
	// ErrConnectionRefused: a socket file with nobody listening
	// (VERR_NET_CONNECTION_REFUSED, -461).
	ErrConnectionRefused = ipcerr.ErrConnectionRefused
	// ErrAccessDenied: permissions or credentials refuse it (VERR_ACCESS_DENIED, -38).
	ErrAccessDenied = ipcerr.ErrAccessDenied
	// ErrPipeBusy: every instance of the Windows pipe is taken (VERR_PIPE_BUSY, -303).
	ErrPipeBusy = ipcerr.ErrPipeBusy
)

// Status returns the IPRT status code of err, for programs that speak IPRT's
// codes: 0 (VINF_SUCCESS) for nil; the code of the sentinel err is or wraps,
// with io.EOF and io.ErrUnexpectedEOF as VERR_BROKEN_PIPE, os.ErrDeadlineExceeded
// as VERR_TIMEOUT and net.ErrClosed as VERR_INVALID_HANDLE; for an OS error
// code in err's chain, what IPRT's RTErrConvertFromErrno (RTErrConvertFromWin32
// on Windows) makes of it; -35 (VERR_UNRESOLVED_ERROR) for anything else.
func Status(err error) int { return ipcerr.Status(err) }
