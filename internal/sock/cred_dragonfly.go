package sock

import "github.com/localipc/localipc/internal/ipcerr"

// localPeerCred is LOCAL_PEERCRED, at level 0, as DragonFly's getpeereid
// asks for it; x/sys does not name it for DragonFly.
const localPeerCred = 1

// PeerCred returns the peer's uid and gid from LOCAL_PEERCRED, as getpeereid
// does. DragonFly's struct xucred has no pid and no option gives one, so
// the pid is not supported.
func PeerCred(fd int) (Cred, error) {
	var buf [xucredGroupsEnd]byte
	b, err := getsockoptBytes(fd, 0, localPeerCred, buf[:])
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	return decodeXucred(b, -1)
}
