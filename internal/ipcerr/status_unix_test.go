//go:build unix

package ipcerr

import "syscall"

var errnoCases = []struct {
	name  string
	errno syscall.Errno
	want  int
}{
	{"EPERM", syscall.EPERM, -38},
	{"ENOENT", syscall.ENOENT, -102},
	{"EINTR", syscall.EINTR, -39},
	{"EIO", syscall.EIO, -250},
	{"ENXIO", syscall.ENXIO, -250},
	{"EBADF", syscall.EBADF, -4},
	{"EAGAIN", syscall.EAGAIN, -52},
	{"ENOMEM", syscall.ENOMEM, -8},
	{"EACCES", syscall.EACCES, -38},
	{"EFAULT", syscall.EFAULT, -6},
	{"EBUSY", syscall.EBUSY, -138},
	{"EEXIST", syscall.EEXIST, -105},
	{"ENODEV", syscall.ENODEV, -37},
	{"ENOTDIR", syscall.ENOTDIR, -103},
	{"EISDIR", syscall.EISDIR, -127},
	{"EINVAL", syscall.EINVAL, -2},
	{"ENFILE", syscall.ENFILE, -106},
	{"EMFILE", syscall.EMFILE, -106},
	{"ENOSPC", syscall.ENOSPC, -152},
	{"EROFS", syscall.EROFS, -113},
	{"EPIPE", syscall.EPIPE, -301},
	{"ENAMETOOLONG", syscall.ENAMETOOLONG, -120},
	{"ENOSYS", syscall.ENOSYS, -37},
	{"ELOOP", syscall.ELOOP, -156},
	{"ENOTSOCK", syscall.ENOTSOCK, -438},
	{"EMSGSIZE", syscall.EMSGSIZE, -440},
	{"EOPNOTSUPP", syscall.EOPNOTSUPP, -445},
	{"EAFNOSUPPORT", syscall.EAFNOSUPPORT, -447},
	{"EADDRINUSE", syscall.EADDRINUSE, -448},
	{"EADDRNOTAVAIL", syscall.EADDRNOTAVAIL, -449},
	{"ECONNABORTED", syscall.ECONNABORTED, -453},
	{"ECONNRESET", syscall.ECONNRESET, -454},
	{"ENOBUFS", syscall.ENOBUFS, -455},
	{"EISCONN", syscall.EISCONN, -456},
	{"ENOTCONN", syscall.ENOTCONN, -457},
	{"ESHUTDOWN", syscall.ESHUTDOWN, -458},
	{"ETIMEDOUT", syscall.ETIMEDOUT, -40},
	{"ECONNREFUSED", syscall.ECONNREFUSED, -461},
	{"EINPROGRESS", syscall.EINPROGRESS, -436},
	{"EDQUOT", syscall.EDQUOT, -152},
	{"EWOULDBLOCK", syscall.EWOULDBLOCK, -52},
	{"ENOTSUP", syscall.ENOTSUP, enotsupStatus()},
}

// Where ENOTSUP is EOPNOTSUPP (Linux) IPRT has only the EOPNOTSUPP case.
func enotsupStatus() int {
	if syscall.ENOTSUP == syscall.EOPNOTSUPP {
		return -445
	}
	return -37
}
