package sock

import "github.com/localipc/localipc/internal/ipcerr"

// localPeerEID is LOCAL_PEEREID, at level 0 (SOL_LOCAL), which x/sys does
// not name for NetBSD.
const localPeerEID = 3

// PeerCred returns the peer's pid, effective uid and effective gid from
// LOCAL_PEEREID (struct unpcbid), recorded when the connection was made.
func PeerCred(fd int) (Cred, error) {
	var buf [unpcbidSize]byte
	b, err := getsockoptBytes(fd, 0, localPeerEID, buf[:])
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	return decodeUnpcbid(b)
}
