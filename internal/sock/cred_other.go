//go:build unix && !darwin && !dragonfly && !freebsd && !linux && !netbsd && !openbsd

package sock

import "github.com/localipc/localipc/internal/ipcerr"

// PeerCred is not written for the remaining Unix systems (Solaris and
// illumos have getpeerucred, which no target of this project needs yet):
// ErrNotSupported.
func PeerCred(fd int) (Cred, error) { return noCred, ipcerr.ErrNotSupported }
