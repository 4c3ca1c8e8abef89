package ipcerr

import "golang.org/x/sys/windows"

// errnoTable is the part of IPRT's RTErrConvertFromWin32 (checked against
// src/VBox/Runtime/win/RTErrConvertFromWin32.cpp, r106320) that named pipes
// and their names can produce. Any other code reports VERR_UNRESOLVED_ERROR.
//
// Winsock codes are left out on purpose: localipc uses no sockets on Windows.
var errnoTable = []errnoStatus{
	{windows.ERROR_FILE_NOT_FOUND, VERR_FILE_NOT_FOUND},
	{windows.ERROR_PATH_NOT_FOUND, VERR_PATH_NOT_FOUND},
	{windows.ERROR_ACCESS_DENIED, VERR_ACCESS_DENIED},
	{windows.ERROR_INVALID_HANDLE, VERR_INVALID_HANDLE},
	{windows.ERROR_ALREADY_EXISTS, VERR_ALREADY_EXISTS},
	{windows.ERROR_BROKEN_PIPE, VERR_BROKEN_PIPE},
	{windows.ERROR_SEM_TIMEOUT, VERR_TIMEOUT},
	{windows.WAIT_TIMEOUT, VERR_TIMEOUT},
	{windows.ERROR_INVALID_NAME, VERR_INVALID_NAME},
	{windows.ERROR_BAD_PATHNAME, VERR_INVALID_NAME},
	{windows.ERROR_FILENAME_EXCED_RANGE, VERR_FILENAME_TOO_LONG},
	{windows.ERROR_BAD_PIPE, VERR_BAD_PIPE},
	{windows.ERROR_PIPE_BUSY, VERR_PIPE_BUSY},
	// IPRT's Write reports this one as VERR_BROKEN_PIPE; that remap belongs to
	// the session, which knows it was writing.
	{windows.ERROR_NO_DATA, VERR_NO_DATA},
	{windows.ERROR_PIPE_NOT_CONNECTED, VERR_PIPE_NOT_CONNECTED},
	{windows.ERROR_MORE_DATA, VERR_MORE_DATA},
	{windows.ERROR_PIPE_CONNECTED, VERR_PIPE_IO_ERROR},
	{windows.ERROR_PIPE_LISTENING, VERR_PIPE_IO_ERROR},
	// IPRT reads an aborted overlapped operation as an interrupted call.
	{windows.ERROR_OPERATION_ABORTED, VERR_INTERRUPTED},
	{windows.ERROR_CANCELLED, VERR_CANCELLED},
	// What any Win32 call can run out of or be handed wrongly.
	{windows.ERROR_TOO_MANY_OPEN_FILES, VERR_TOO_MANY_OPEN_FILES},
	{windows.ERROR_NOT_ENOUGH_MEMORY, VERR_NO_MEMORY},
	{windows.ERROR_OUTOFMEMORY, VERR_NO_MEMORY},
	{windows.ERROR_INVALID_PARAMETER, VERR_INVALID_PARAMETER},
	{windows.ERROR_NOT_SUPPORTED, VERR_NOT_SUPPORTED},
	{windows.ERROR_INVALID_FLAGS, VERR_INVALID_FLAGS},
	{windows.ERROR_NOACCESS, VERR_INVALID_POINTER},
	{windows.ERROR_BUSY, VERR_RESOURCE_BUSY},
}
