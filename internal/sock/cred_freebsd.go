package sock

import "github.com/localipc/localipc/internal/ipcerr"

// PeerCred returns the peer's uid and gid from LOCAL_PEERCRED, as getpeereid
// does. The pid that newer kernels add to struct xucred is not in x/sys's
// Xucred, so it is reported as not supported.
func PeerCred(fd int) (Cred, error) {
	c, err := xucred(fd)
	if err != nil {
		return noCred, err
	}
	c.PID, c.PIDErr = -1, ipcerr.ErrNotSupported
	return c, nil
}
