package localipc

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/localipc/localipc/internal/ipcerr"
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
// path: only a NUL, which would silently cut it, and its encoding are checked.
func validateName(name string, native bool) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if native {
		// A C string ends at its first NUL, so IPRT never sees the bytes
		// after one; the NUL is ours to refuse, and it comes first.
		if i := strings.IndexByte(name, 0); i >= 0 {
			return fmt.Errorf("%w %q: NUL at offset %d", ErrInvalidName, name, i)
		}
		if i, sentinel := iprtEncodingError(name); sentinel != nil {
			return fmt.Errorf("%w %q: at offset %d", sentinel, name, i)
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

// iprtEncodingError judges s as IPRT's RTStrValidateEncoding does, which is
// not quite utf8.ValidString: it takes the original UTF-8 of RFC 2279, so
// sequences of up to six bytes and code points up to 0x7fffffff pass, while
// U+FFFE and U+FFFF, which Go accepts, do not; overlong forms and encoded
// surrogates fail in both. It returns (0, nil) if IPRT accepts s, else the
// offset of the offending sequence and the sentinel for IPRT's code:
// ErrInvalidUTF8, or ipcerr's ErrCodePointSurrogate or
// ErrCodePointEndianIndicator, which both match ErrInvalidUTF8.
func iprtEncodingError(s string) (int, error) {
	for i := 0; i < len(s); {
		lead := s[i]
		if lead < 0x80 {
			i++
			continue
		}
		// The sequence length is the number of leading one bits, 2 to 6,
		// and each length has its own smallest code point (anything below
		// is overlong) and its own payload bits in the lead byte.
		n := bits.LeadingZeros8(^lead)
		if n < 2 || n > 6 || i+n > len(s) {
			return i, ErrInvalidUTF8
		}
		cp := uint32(lead) & (0x7f >> n)
		for _, c := range []byte(s[i+1 : i+n]) {
			if c&0xc0 != 0x80 {
				return i, ErrInvalidUTF8
			}
			cp = cp<<6 | uint32(c&0x3f)
		}
		minimum := [...]uint32{2: 0x80, 3: 0x800, 4: 0x10000, 5: 0x200000, 6: 0x4000000}[n]
		switch {
		case cp < minimum:
			return i, ErrInvalidUTF8
		case cp == 0xfffe || cp == 0xffff:
			return i, ipcerr.ErrCodePointEndianIndicator
		case cp >= 0xd800 && cp <= 0xdfff:
			return i, ipcerr.ErrCodePointSurrogate
		}
		i += n
	}
	return 0, nil
}
