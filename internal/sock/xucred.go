//go:build darwin || freebsd

package sock

import (
	"fmt"

	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// xucredVersion is XUCRED_VERSION, the layout x/sys's Xucred describes; x/sys
// does not export it.
const xucredVersion = 0

// xucred reads the peer's uid and effective gid (the first group, as
// getpeereid takes it) from LOCAL_PEERCRED.
func xucred(fd int) (Cred, error) {
	xu, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	if xu.Version != xucredVersion || xu.Ngroups < 1 {
		return noCred, fmt.Errorf("localipc: getsockopt LOCAL_PEERCRED: unexpected xucred (version %d, %d groups)",
			xu.Version, xu.Ngroups)
	}
	return Cred{UID: int(xu.Uid), GID: int(xu.Groups[0])}, nil
}
