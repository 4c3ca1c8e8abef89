package sock

import (
	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// PeerCred returns the peer's pid, uid and gid from SO_PEERCRED.
func PeerCred(fd int) (Cred, error) {
	uc, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	return Cred{PID: int(uc.Pid), UID: int(uc.Uid), GID: int(uc.Gid)}, nil
}
