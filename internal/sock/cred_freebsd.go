package sock

import (
	"unsafe"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// PeerCred returns the peer's uid and gid from LOCAL_PEERCRED, as getpeereid
// does, and its pid from the same struct xucred's cr_pid, which FreeBSD 13
// and later fill in. x/sys's Xucred hides that field, so the bytes are
// decoded here (decodeXucred); before 13 the pid is not supported.
func PeerCred(fd int) (Cred, error) {
	var buf [xucredGroupsEnd + 16]byte // the struct, with room for its pid
	b, err := getsockoptBytes(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED, buf[:])
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	return decodeXucred(b, xucredPIDOffset(int(unsafe.Sizeof(uintptr(0)))))
}
