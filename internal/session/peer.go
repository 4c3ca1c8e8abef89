package session

import (
	"os"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
)

// peerCred asks the kernel for the credentials it recorded for the peer when
// the connection was made; they do not change afterwards.
func (s *Session) peerCred() (sock.Cred, error) {
	if err := s.check(); err != nil {
		return sock.Cred{}, err
	}
	if s.ev != nil {
		return s.ev.peerCred()
	}
	cred, perr, err := s.rawCalls.peerCred()
	if perr != nil {
		return sock.Cred{}, s.pollError("peer credentials", perr)
	}
	return cred, err
}

// PeerPID returns the process id of the peer (RTLocalIpcSessionQueryProcess),
// or -1 and ErrNotSupported where the system does not record it.
// Any goroutine.
func (s *Session) PeerPID() (int, error) {
	cred, err := s.peerCred()
	if err == nil {
		err = cred.PIDErr
	}
	if err != nil {
		return -1, err
	}
	return cred.PID, nil
}

// PeerUID returns the effective user id of the peer
// (RTLocalIpcSessionQueryUserId), or -1 and an error. Any goroutine.
func (s *Session) PeerUID() (int, error) {
	cred, err := s.peerCred()
	if err == nil {
		err = cred.IDErr
	}
	if err != nil {
		return -1, err
	}
	return cred.UID, nil
}

// PeerGID returns the effective group id of the peer
// (RTLocalIpcSessionQueryGroupId), or -1 and an error. Any goroutine.
func (s *Session) PeerGID() (int, error) {
	cred, err := s.peerCred()
	if err == nil {
		err = cred.IDErr
	}
	if err != nil {
		return -1, err
	}
	return cred.GID, nil
}

// VerifySameUser returns nil if the peer runs as our effective user and
// ErrAccessDenied if not (RTLocalIpcSessionVerifySameUser); on Windows the
// user is the peer process's token user. Any goroutine.
func (s *Session) VerifySameUser() error {
	cred, err := s.peerCred()
	switch {
	case err != nil:
		return err
	case cred.SameUser != nil:
		if !*cred.SameUser {
			return ipcerr.ErrAccessDenied
		}
		return nil
	case cred.IDErr != nil:
		return cred.IDErr
	case cred.UID != os.Geteuid():
		return ipcerr.ErrAccessDenied
	}
	return nil
}
