package sock

import (
	"encoding/binary"
	"fmt"

	"github.com/localipc/localipc/internal/ipcerr"
)

// The peer-credential structures of the BSDs, decoded from the bytes
// getsockopt wrote, in OS-free code that the Linux tests run
// (peercred_test.go); the cred_<os>.go files only make the call. Every
// field is 32 bits (uid_t, gid_t, pid_t and u_int), in the machine's order.

// struct xucred (LOCAL_PEERCRED on macOS, FreeBSD and DragonFly):
//
//	u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16];
//	union { void *_cr_unused1; pid_t cr_pid; }   FreeBSD 13 and later only
const (
	xucredVersion   = 0 // XUCRED_VERSION, the only layout there is
	xucredUIDOff    = 4
	xucredNgroupOff = 8
	xucredGroupsOff = 12
	xucredNGroups   = 16
	xucredGroupsEnd = xucredGroupsOff + 4*xucredNGroups
)

// xucredPIDOffset is where FreeBSD's cr_pid sits: the union after the
// groups is aligned as a pointer, so 76 on 32-bit systems and 80 on 64-bit.
func xucredPIDOffset(ptrSize int) int {
	return (xucredGroupsEnd + ptrSize - 1) / ptrSize * ptrSize
}

// xucredIDs checks an xucred's version and group count and takes its uid
// and its first group, the effective gid, as getpeereid does. The pid is
// not known yet (PIDErr).
func xucredIDs(version, uid uint32, ngroups int16, group0 uint32) (Cred, error) {
	if version != xucredVersion || ngroups < 1 {
		return noCred, fmt.Errorf("localipc: getsockopt LOCAL_PEERCRED: unexpected xucred (version %d, %d groups)",
			version, ngroups)
	}
	return Cred{PID: -1, UID: int(uid), GID: int(group0), PIDErr: ipcerr.ErrNotSupported}, nil
}

// decodeXucred decodes the n bytes of an xucred that getsockopt wrote into
// b. pidOff is where cr_pid sits, or -1 where struct xucred has none. A pid
// of 0 is FreeBSD before 13, whose union held a NULL pointer: no pid is
// known then.
func decodeXucred(b []byte, pidOff int) (Cred, error) {
	if len(b) < xucredGroupsOff+4 {
		return noCred, fmt.Errorf("localipc: getsockopt LOCAL_PEERCRED: %d bytes, too short for a struct xucred", len(b))
	}
	ne := binary.NativeEndian
	c, err := xucredIDs(ne.Uint32(b), ne.Uint32(b[xucredUIDOff:]), int16(ne.Uint16(b[xucredNgroupOff:])),
		ne.Uint32(b[xucredGroupsOff:]))
	if err != nil || pidOff < 0 || len(b) < pidOff+4 {
		return c, err
	}
	if pid := int32(ne.Uint32(b[pidOff:])); pid > 0 {
		c.PID, c.PIDErr = int(pid), nil
	}
	return c, nil
}

// struct sockpeercred (SO_PEERCRED on OpenBSD): uid_t uid; gid_t gid;
// pid_t pid.
const sockpeercredSize = 12

func decodeSockpeercred(b []byte) (Cred, error) {
	if len(b) < sockpeercredSize {
		return noCred, fmt.Errorf("localipc: getsockopt SO_PEERCRED: %d bytes, struct sockpeercred has %d",
			len(b), sockpeercredSize)
	}
	ne := binary.NativeEndian
	return Cred{UID: int(ne.Uint32(b)), GID: int(ne.Uint32(b[4:])), PID: int(int32(ne.Uint32(b[8:])))}, nil
}

// struct unpcbid (LOCAL_PEEREID on NetBSD): pid_t unp_pid; uid_t unp_euid;
// gid_t unp_egid.
const unpcbidSize = 12

func decodeUnpcbid(b []byte) (Cred, error) {
	if len(b) < unpcbidSize {
		return noCred, fmt.Errorf("localipc: getsockopt LOCAL_PEEREID: %d bytes, struct unpcbid has %d",
			len(b), unpcbidSize)
	}
	ne := binary.NativeEndian
	return Cred{PID: int(int32(ne.Uint32(b))), UID: int(ne.Uint32(b[4:])), GID: int(ne.Uint32(b[8:]))}, nil
}
