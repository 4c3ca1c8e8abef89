package localipc

import "fmt"

const pipePrefix = `\\.\pipe\IPRT-` // RTLOCALIPC_WIN_PREFIX

// namePath maps a name to its pipe name. Unlike sun_path, a pipe name has no
// limit IPRT checks, so neither do we; Windows refuses what it cannot take.
//
// RestrictToUser with a portable name is not supported yet: IPRT trunk puts
// such a name in the logon session's namespace,
// \\.\pipe\LOCAL\IPRT-<session>-<logon LUID>-N, which needs the process
// token's session and logon ids. A native name is taken as it is, with or
// without RestrictToUser, as on Unix; Listen and Dial then refuse
// RestrictToUser (the user-only DACL and the client's check of the server's
// user are not done yet).
func namePath(name string, flags Flags) (string, error) {
	switch {
	case flags&NativeName != 0:
		return name, nil
	case flags&RestrictToUser != 0:
		return "", fmt.Errorf("%w: RestrictToUser with a portable name on Windows", ErrNotSupported)
	}
	return pipePrefix + name, nil
}
