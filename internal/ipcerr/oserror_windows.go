package ipcerr

import "golang.org/x/sys/windows"

// errnoSentinels names the Win32 codes a caller of localipc is expected to
// tell apart, as the public contract lists them; Status then reports the
// sentinel's code, which for the pipe-gone codes is what IPRT's session
// reports too (its Write turns ERROR_NO_DATA into VERR_BROKEN_PIPE, and a
// pipe whose peer is gone fails reads with ERROR_BROKEN_PIPE or
// ERROR_PIPE_NOT_CONNECTED). Any other code gets no sentinel; Status still
// converts it through errnoTable, as RTErrConvertFromWin32 does.
//
// ERROR_ACCESS_DENIED is ErrAccessDenied here; Listen turns it into
// ErrAddressInUse where it means that (a first pipe instance on a name that
// another server holds), since only Listen knows.
var errnoSentinels = []errnoSentinel{
	{windows.ERROR_FILE_NOT_FOUND, ErrNotFound},
	{windows.ERROR_PATH_NOT_FOUND, ErrPathNotFound},
	{windows.ERROR_ACCESS_DENIED, ErrAccessDenied},
	{windows.ERROR_PIPE_BUSY, ErrPipeBusy},
	{windows.ERROR_BROKEN_PIPE, ErrBrokenPipe},
	{windows.ERROR_NO_DATA, ErrBrokenPipe},
	{windows.ERROR_PIPE_NOT_CONNECTED, ErrBrokenPipe},
	{windows.ERROR_FILENAME_EXCED_RANGE, ErrNameTooLong},
	{windows.ERROR_INVALID_NAME, ErrInvalidName},
	{windows.ERROR_BAD_PATHNAME, ErrInvalidName},
}
