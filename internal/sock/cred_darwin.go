package sock

import (
	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// PeerCred returns the peer's uid and gid from LOCAL_PEERCRED, as getpeereid
// does, and its pid from LOCAL_PEERPID.
func PeerCred(fd int) (Cred, error) {
	c, err := xucred(fd)
	if err != nil {
		return noCred, err
	}
	pid, err := unix.GetsockoptInt(fd, unix.SOL_LOCAL, unix.LOCAL_PEERPID)
	if err != nil {
		c.PID, c.PIDErr = -1, ipcerr.OSError("getsockopt", "", err)
	} else {
		c.PID, c.PIDErr = pid, nil
	}
	return c, nil
}
