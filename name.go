package localipc

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Path returns where name lives for the given flags: the socket path on Unix,
// the pipe name on Windows. It applies IPRT's rules, so a name Path rejects is
// one Listen and Dial reject with the same error.
//
// A portable name N becomes /tmp/.iprt-localipc-N on Unix and \\.\pipe\IPRT-N
// on Windows. With NativeName the name is the path itself; on Linux a leading
// '@' is part of a file name, never the abstract namespace. With RestrictToUser
// a portable name lives in a directory only the user can enter
// ($XDG_RUNTIME_DIR, /run/user/<uid> or ~/.iprt-localipc), which Path creates
// in the home directory case, as IPRT does.
func Path(name string, flags Flags) (string, error) {
	// The dial mask: it is the wider one, and asking where a name lives is
	// what a client does.
	return resolveName(name, flags, false)
}

// resolveName checks flags against the server or dial mask, then the name,
// and maps the name to its path or pipe name. The order is IPRT's: flags are
// checked before the name.
func resolveName(name string, flags Flags, server bool) (string, error) {
	valid := dialFlags
	if server {
		valid = serverFlags
	}
	if flags&^valid != 0 {
		return "", fmt.Errorf("%w %#x (accepted: %#x)", ErrInvalidFlags, uint32(flags), uint32(valid))
	}
	if err := validateName(name, flags&NativeName != 0); err != nil {
		return "", err
	}
	return namePath(name, flags)
}

// validateName applies IPRT's name rules, which are the same on every OS. A
// portable name becomes one component of a path or pipe name, so it is ASCII
// without control characters or separators. A native name is the caller's
// path: only its encoding is checked, and a NUL, which would silently cut it.
func validateName(name string, native bool) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if native {
		// IPRT reports VERR_INVALID_UTF8_ENCODING here; one error for every
		// bad name is simpler to handle and still says what is wrong.
		if !utf8.ValidString(name) {
			return fmt.Errorf("%w %q: not UTF-8", ErrInvalidName, name)
		}
		if i := strings.IndexByte(name, 0); i >= 0 {
			return fmt.Errorf("%w %q: NUL at offset %d", ErrInvalidName, name, i)
		}
		return nil
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f || c == '/' || c == '\\' {
			return fmt.Errorf("%w %q: byte %#02x at offset %d", ErrInvalidName, name, c, i)
		}
	}
	return nil
}
