package localipc

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/winapi"
	"golang.org/x/sys/windows"
)

// RestrictToUser on Windows, as IPRT trunk: a portable name lives in the
// logon session's namespace, \\.\pipe\LOCAL\IPRT-<session>-<logon id>-N; the
// server's pipes get a DACL that lets in only its logon session (and
// SYSTEM), and each end checks that the other is in its Windows session; the
// client also checks that the server runs as its user.

const userPipePrefix = `\\.\pipe\LOCAL\IPRT-` // RTLOCALIPC_WIN_USER_PREFIX

// identity is what RestrictToUser needs of our process token.
type identity struct {
	session          uint32 // TokenSessionId
	logonHi, logonLo uint32 // TokenStatistics.AuthenticationId
	user, logon      string // SIDs; logon is the logon SID, or SYSTEM's if there is none
}

func ownIdentity() (identity, error) {
	tok := windows.GetCurrentProcessToken()
	var id identity
	var n uint32
	if err := windows.GetTokenInformation(tok, windows.TokenSessionId, (*byte)(unsafe.Pointer(&id.session)), 4, &n); err != nil {
		return id, ipcerr.OSError("GetTokenInformation(TokenSessionId)", "", err)
	}
	// TOKEN_STATISTICS: TokenId (a LUID), then AuthenticationId (a LUID:
	// LowPart, HighPart), ...; 56 bytes.
	var stats [7]uint64
	if err := windows.GetTokenInformation(tok, windows.TokenStatistics, (*byte)(unsafe.Pointer(&stats[0])), uint32(unsafe.Sizeof(stats)), &n); err != nil {
		return id, ipcerr.OSError("GetTokenInformation(TokenStatistics)", "", err)
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&stats[0])), unsafe.Sizeof(stats))
	id.logonLo, id.logonHi = binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
	user, err := tok.GetTokenUser()
	if err != nil {
		return id, ipcerr.OSError("GetTokenInformation(TokenUser)", "", err)
	}
	id.user = user.User.Sid.String()
	groups, err := tok.GetTokenGroups()
	if err != nil {
		return id, ipcerr.OSError("GetTokenInformation(TokenGroups)", "", err)
	}
	id.logon = "SY"
	for _, g := range groups.AllGroups() {
		if g.Attributes&windows.SE_GROUP_LOGON_ID == windows.SE_GROUP_LOGON_ID {
			id.logon = g.Sid.String()
			break
		}
	}
	return id, nil
}

// userPipeName is IPRT trunk's name for a portable name with
// RestrictToUser (its %08RX32 digits are taken for upper case).
func userPipeName(name string) (string, error) {
	id, err := ownIdentity()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%08X-%08X%08X-%s", userPipePrefix, id.session, id.logonHi, id.logonLo, name), nil
}

// restrictedSDDL is trunk's DACL for a restricted pipe: NETWORK denied
// everything, OWNER RIGHTS denied WRITE_DAC and WRITE_OWNER, SYSTEM all
// access, the logon session read, write and (first instance only) the
// creation of further instances; owned by our user.
func restrictedSDDL(id identity, first bool) string {
	access := "0x12019b"
	if first {
		access = "0x12019f" // + FILE_CREATE_PIPE_INSTANCE
	}
	return fmt.Sprintf("O:%sD:P(D;;GA;;;NU)(D;;WDWO;;;OW)(A;;FA;;;SY)(A;;%s;;;%s)", id.user, access, id.logon)
}

// checkServer is the restricted client's check of its server: the same
// Windows session and the same user, else ErrAccessDenied.
func checkServer(h windows.Handle, path string) error {
	id, err := ownIdentity()
	if err != nil {
		return err
	}
	sid, err := winapi.GetNamedPipeServerSessionId(h)
	if err != nil {
		return ipcerr.OSError("GetNamedPipeServerSessionId", path, err)
	}
	if sid != id.session {
		return fmt.Errorf("%w: %s: the server is in Windows session %d, we are in %d", ErrAccessDenied, path, sid, id.session)
	}
	cred, err := session.PeerCredOf(uintptr(h))
	if err != nil {
		return ipcerr.OSError("GetNamedPipeServerProcessId", path, err)
	}
	if cred.SameUser == nil || !*cred.SameUser {
		return fmt.Errorf("%w: %s: the server runs as another user", ErrAccessDenied, path)
	}
	return nil
}

// sameSession reports whether the client on the server end h is in our
// Windows session.
func sameSession(h windows.Handle, own uint32) bool {
	sid, err := winapi.GetNamedPipeClientSessionId(h)
	return err == nil && sid == own
}
