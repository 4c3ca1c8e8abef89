//go:build unix

package ipcerr

import "syscall"

// errnoTable is the part of IPRT's RTErrConvertFromErrno (checked against
// src/VBox/Runtime/common/err/RTErrConvertFromErrno.cpp, r106320) that a socket,
// its path or its directory can produce, in IPRT's order. Any other errno
// reports VERR_UNRESOLVED_ERROR, as IPRT does for one it does not know.
//
// Keyed by the named constants: their numbers differ from one system to the
// next. Where two names share a number (EAGAIN and EWOULDBLOCK everywhere,
// EOPNOTSUPP and ENOTSUP on Linux) the first entry wins, which is what IPRT's
// switch does by leaving the duplicate case out.
var errnoTable = []errnoStatus{
	{syscall.EPERM, VERR_ACCESS_DENIED},
	{syscall.ENOENT, VERR_FILE_NOT_FOUND},
	{syscall.EINTR, VERR_INTERRUPTED},
	{syscall.EIO, VERR_DEV_IO_ERROR},
	{syscall.ENXIO, VERR_DEV_IO_ERROR},
	{syscall.EBADF, VERR_INVALID_HANDLE},
	{syscall.EAGAIN, VERR_TRY_AGAIN},
	{syscall.ENOMEM, VERR_NO_MEMORY},
	{syscall.EACCES, VERR_ACCESS_DENIED},
	{syscall.EFAULT, VERR_INVALID_POINTER},
	{syscall.EBUSY, VERR_RESOURCE_BUSY},
	{syscall.EEXIST, VERR_ALREADY_EXISTS},
	{syscall.ENODEV, VERR_NOT_SUPPORTED},
	{syscall.ENOTDIR, VERR_PATH_NOT_FOUND},
	{syscall.EISDIR, VERR_IS_A_DIRECTORY},
	{syscall.EINVAL, VERR_INVALID_PARAMETER},
	{syscall.ENFILE, VERR_TOO_MANY_OPEN_FILES},
	{syscall.EMFILE, VERR_TOO_MANY_OPEN_FILES},
	{syscall.ENOSPC, VERR_DISK_FULL},
	{syscall.EROFS, VERR_WRITE_PROTECT},
	{syscall.EPIPE, VERR_BROKEN_PIPE},
	{syscall.ENAMETOOLONG, VERR_FILENAME_TOO_LONG},
	{syscall.ENOSYS, VERR_NOT_SUPPORTED},
	{syscall.ELOOP, VERR_TOO_MANY_SYMLINKS},
	{syscall.ENOTSOCK, VERR_NET_NOT_SOCKET},
	{syscall.EMSGSIZE, VERR_NET_MSG_SIZE},
	{syscall.EOPNOTSUPP, VERR_NET_OPERATION_NOT_SUPPORTED},
	{syscall.EAFNOSUPPORT, VERR_NET_ADDRESS_FAMILY_NOT_SUPPORTED},
	{syscall.EADDRINUSE, VERR_NET_ADDRESS_IN_USE},
	{syscall.EADDRNOTAVAIL, VERR_NET_ADDRESS_NOT_AVAILABLE},
	{syscall.ECONNABORTED, VERR_NET_CONNECTION_ABORTED},
	{syscall.ECONNRESET, VERR_NET_CONNECTION_RESET_BY_PEER},
	{syscall.ENOBUFS, VERR_NET_NO_BUFFER_SPACE},
	{syscall.EISCONN, VERR_NET_ALREADY_CONNECTED},
	{syscall.ENOTCONN, VERR_NET_NOT_CONNECTED},
	{syscall.ESHUTDOWN, VERR_NET_SHUTDOWN},
	{syscall.ETIMEDOUT, VERR_TIMEOUT},
	{syscall.ECONNREFUSED, VERR_NET_CONNECTION_REFUSED},
	{syscall.EINPROGRESS, VERR_NET_IN_PROGRESS},
	{syscall.EDQUOT, VERR_DISK_FULL},
	{syscall.EWOULDBLOCK, VERR_TRY_AGAIN},
	{syscall.ENOTSUP, VERR_NOT_SUPPORTED},
}
