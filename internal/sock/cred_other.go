//go:build unix && !darwin && !freebsd && !linux

package sock

import "github.com/localipc/localipc/internal/ipcerr"

// PeerCred is not supported: x/sys has no getter for OpenBSD's SO_PEERCRED or
// NetBSD's LOCAL_PEEREID, and linking to its private getsockopt would tie us
// to its internals.
func PeerCred(fd int) (Cred, error) { return noCred, ipcerr.ErrNotSupported }
