//go:build unix

package ipcerr

import "syscall"

// errnoSentinels names the errnos a caller of localipc is expected to tell
// apart, as the public contract lists them. Any other errno gets no sentinel;
// Status still converts it through errnoTable.
var errnoSentinels = []errnoSentinel{
	{syscall.ENOENT, ErrNotFound},
	{syscall.ECONNREFUSED, ErrConnectionRefused},
	{syscall.EACCES, ErrAccessDenied},
	{syscall.EPERM, ErrAccessDenied},
	{syscall.EADDRINUSE, ErrAddressInUse},
	{syscall.EPIPE, ErrBrokenPipe},
	{syscall.ECONNRESET, ErrBrokenPipe},
	{syscall.ENAMETOOLONG, ErrNameTooLong},
}
