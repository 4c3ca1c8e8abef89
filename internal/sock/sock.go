// Package sock holds the raw AF_UNIX stream socket operations localipc is
// built on: every descriptor it makes is non-blocking and close-on-exec, and
// every difference between the systems lives in a file named for it.
//
// Listen, Unlink, Dial and PeerCred return errors made by ipcerr.OSError, ready
// for a caller of localipc. Socket, Connect, Read, Accept, Send and
// SendAll return the bare errno, because their callers park or queue on
// EAGAIN; none of them returns EINTR (IgnoringEINTR).
//
// Only the types below exist on Windows, where localipc uses named pipes.
package sock

import "os"

// ListenConfig is what Listen does to the socket file between bind(2) and
// listen(2), while a client can only be refused: so the mode and group are in
// force before anyone can connect.
type ListenConfig struct {
	// Mode, if not 0, is given to the socket file (permission bits only).
	Mode os.FileMode
	// Group, if 0 or more, becomes the socket file's group; -1 leaves the
	// group bind(2) gave it. The zero ListenConfig therefore asks for group 0.
	Group int
}

// Cred is a peer's identity as the kernel recorded it when the connection was
// made (for a client: when the server called listen).
type Cred struct {
	PID, UID, GID int
	// PIDErr is set when this system cannot tell the pid; PID is -1 then.
	PIDErr error
	// IDErr is set when this system cannot tell the uid and gid (Windows,
	// where a user is a SID); UID and GID are -1 then.
	IDErr error
	// SameUser, where users are not told apart by uid (Windows: by the
	// token's user SID), says whether the peer runs as our user; nil where
	// the uid says it.
	SameUser *bool
}

// noCred is what PeerCred returns with an error: no field is valid.
var noCred = Cred{PID: -1, UID: -1, GID: -1}
