package localipc

const pipePrefix = `\\.\pipe\IPRT-` // RTLOCALIPC_WIN_PREFIX

// namePath maps a name to its pipe name. Unlike sun_path, a pipe name has no
// limit IPRT checks, so neither do we; Windows refuses what it cannot take.
//
// RestrictToUser with a portable name puts it in the logon session's
// namespace as IPRT trunk does, \\.\pipe\LOCAL\IPRT-<session>-<logon id>-N
// (restrict_windows.go). A native name is taken as it is, with or without
// RestrictToUser, as on Unix: the user-only DACL and the checks of the peer
// are Listen's and Dial's part.
func namePath(name string, flags Flags) (string, error) {
	switch {
	case flags&NativeName != 0:
		return name, nil
	case flags&RestrictToUser != 0:
		return userPipeName(name)
	}
	return pipePrefix + name, nil
}
