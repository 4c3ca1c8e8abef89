package sock

import (
	"encoding/binary"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// PeerCred returns the peer's uid, gid and pid from SO_PEERCRED (struct
// sockpeercred), recorded when the connection was made.
//
// x/sys has no getter for it, and a raw unix.Syscall6(SYS_GETSOCKOPT) fails
// with ENOSYS: OpenBSD 7.5 refuses system calls made outside libc, and Go
// reroutes only ioctl and sysctl to it. So the call goes through an x/sys
// getter that is a plain getsockopt into a larger buffer: ICMPv6Filter's
// eight 32-bit words. The kernel copies what fits, the 12 bytes of the
// struct, and leaves the rest zero.
func PeerCred(fd int) (Cred, error) {
	f, err := unix.GetsockoptICMPv6Filter(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	var b [sockpeercredSize]byte
	for i := range len(b) / 4 {
		binary.NativeEndian.PutUint32(b[4*i:], f.Filt[i])
	}
	return decodeSockpeercred(b[:])
}

// The buffer must hold the whole struct, or the kernel would cut it short.
var _ [unix.SizeofICMPv6Filter - sockpeercredSize]struct{}
