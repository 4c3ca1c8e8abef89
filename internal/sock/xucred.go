//go:build darwin

package sock

import (
	"github.com/localipc/localipc/internal/ipcerr"
	"golang.org/x/sys/unix"
)

// xucred reads the peer's uid and effective gid (the first group, as
// getpeereid takes it) from LOCAL_PEERCRED through x/sys's getter; macOS's
// struct xucred has no pid (cred_darwin.go asks LOCAL_PEERPID). FreeBSD and
// DragonFly decode the raw bytes instead (cred_freebsd.go, peercred.go).
func xucred(fd int) (Cred, error) {
	xu, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return noCred, ipcerr.OSError("getsockopt", "", err)
	}
	return xucredIDs(xu.Version, xu.Uid, xu.Ngroups, xu.Groups[0])
}
