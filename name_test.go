package localipc

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// portable is where a portable name lives without RestrictToUser.
func portable(name string) string {
	if runtime.GOOS == "windows" {
		return `\\.\pipe\IPRT-` + name
	}
	return "/tmp/.iprt-localipc-" + name
}

func TestPathPortableNames(t *testing.T) {
	for _, name := range []string{
		"x", "BasicTest", "with space", " ", ".", "..", "...", ":", "a:b", "*", "?", "@", "@x",
		"~!#$%^&()[]{}'\"`|;<>=+,-_", "x\x7e",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Path(name, 0)
			require.NoError(t, err)
			assert.Equal(t, portable(name), got)
		})
	}
}

// Every byte value, one at a time: the printable ASCII range minus the two
// separators is allowed, everything else is ErrInvalidName.
func TestPathPortableBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		name := "a" + string([]byte{byte(c)}) + "b"
		valid := c >= 0x20 && c < 0x7f && c != '/' && c != '\\'
		got, err := Path(name, 0)
		if valid {
			if assert.NoError(t, err, "byte %#02x", c) {
				assert.Equal(t, portable(name), got, "byte %#02x", c)
			}
			continue
		}
		assert.ErrorIs(t, err, ErrInvalidName, "byte %#02x", c)
		assert.Empty(t, got, "byte %#02x", c)
	}
}

func TestPathInvalidNames(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		name  string
		flags Flags
	}{
		{"empty", "", 0},
		{"empty native", "", NativeName},
		{"empty restricted", "", RestrictToUser},
		{"NUL", "a\x00b", 0},
		{"tab", "a\tb", 0},
		{"newline", "a\n", 0},
		{"DEL", "\x7f", 0},
		{"slash", "a/b", 0},
		{"leading slash", "/tmp/x", 0},
		{"backslash", `a\b`, 0},
		{"UTF-8", "é", 0},
		{"high byte", "\xff", 0},
		{"restricted slash", "a/b", RestrictToUser},
		{"native NUL", "/tmp/a\x00b", NativeName},
		{"native NUL before bad UTF-8", "/tmp/\x00\xff", NativeName},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := Path(tc.name, tc.flags)
			require.ErrorIs(t, err, ErrInvalidName)
			assert.Empty(t, got)
			assert.Equal(t, -104, Status(err))
		})
	}
}

// A native name is judged as IPRT's RTStrValidateEncoding judges it, and
// Status gives IPRT's code; each error still matches ErrInvalidName (and
// ErrInvalidUTF8) for callers who test those.
func TestPathNativeEncoding(t *testing.T) {
	for _, tc := range []struct {
		desc string
		name string
		want int // IPRT status; 0: accepted
	}{
		{"not UTF-8", "\xff\xfe", -61},
		{"bad byte in a path", "/tmp/\xff", -61},
		{"lone continuation byte", "/tmp/\x80", -61},
		{"truncated 2-byte", "/tmp/\xc3", -61},
		{"truncated 3-byte", "/tmp/\xe2\x82", -61},
		{"truncated at the end of a path", "/tmp/x\xf0\x9f\x98", -61},
		{"bad continuation", "/tmp/\xc3\x28", -61},
		{"overlong slash", "/tmp/\xc0\xaf", -61},
		{"overlong 3-byte", "/tmp/\xe0\x80\xaf", -61},
		{"overlong 4-byte", "/tmp/\xf0\x80\x80\xaf", -61},
		{"0xfe", "/tmp/\xfe", -61},
		{"0xff", "/tmp/\xff\x80\x80\x80\x80\x80\x80", -61},
		{"surrogate", "/tmp/\xed\xa0\x80", -60},
		{"low surrogate", "/tmp/\xed\xbf\xbf", -60},
		{"U+FFFE", "/tmp/\xef\xbf\xbe", -59},
		{"U+FFFF", "/tmp/\xef\xbf\xbf", -59},
		// Accepted by IPRT (and passed on to the OS as bytes), though Go's
		// utf8.ValidString refuses all but the first two.
		{"U+FFFD", "/tmp/\xef\xbf\xbd", 0},
		{"U+10FFFF", "/tmp/\xf4\x8f\xbf\xbf", 0},
		{"U+110000", "/tmp/\xf4\x90\x80\x80", 0},
		{"U+1FFFFF", "/tmp/\xf7\xbf\xbf\xbf", 0},
		{"5-byte", "/tmp/\xf8\x88\x80\x80\x80", 0},
		{"6-byte, largest", "/tmp/\xfd\xbf\xbf\xbf\xbf\xbf", 0},
		{"overlong 5-byte", "/tmp/\xf8\x87\xbf\xbf\xbf", -61},
		{"overlong 6-byte", "/tmp/\xfc\x83\xbf\xbf\xbf\xbf", -61},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			for _, flags := range []Flags{NativeName, NativeName | RestrictToUser} {
				got, err := Path(tc.name, flags)
				if tc.want == 0 {
					require.NoError(t, err)
					assert.Equal(t, tc.name, got)
					continue
				}
				require.ErrorIs(t, err, ErrInvalidUTF8)
				assert.ErrorIs(t, err, ErrInvalidName)
				assert.Equal(t, tc.want, Status(err))
				assert.Empty(t, got)
				for _, server := range []bool{true, false} {
					_, err := resolveName(tc.name, flags, server)
					assert.Equal(t, tc.want, Status(err), "server %v", server)
				}
			}
		})
	}
}

func TestPathErrorNamesTheName(t *testing.T) {
	_, err := Path("bad/name", 0)
	require.ErrorIs(t, err, ErrInvalidName)
	assert.Contains(t, err.Error(), `"bad/name"`)
	assert.True(t, strings.HasPrefix(err.Error(), ErrInvalidName.Error()), err.Error())
}

func TestPathNativeNames(t *testing.T) {
	for _, name := range []string{
		"@x", "@", "x", "relative/sock", "/tmp/sock", "/tmp/é", `\\.\pipe\Other`, "a/../b",
	} {
		t.Run(name, func(t *testing.T) {
			for _, flags := range []Flags{NativeName, NativeName | RestrictToUser, NativeName | AllowIdentification} {
				got, err := Path(name, flags)
				require.NoError(t, err, "flags %#x", flags)
				assert.Equal(t, name, got, "flags %#x", flags)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		flags        Flags
		server, dial bool // accepted by Listen / by Dial
	}{
		{0, true, true},
		{NativeName, true, true},
		{RestrictToUser | NativeName, true, true},
		{AllowIdentification, false, true},
		{AllowIdentification | NativeName, false, true},
		{NativeName | RestrictToUser | AllowIdentification, false, true},
		{1 << 3, false, false},
		{NativeName | 1<<3, false, false},
		{1 << 31, false, false},
		{^Flags(0), false, false},
	} {
		for _, server := range []bool{true, false} {
			want := tc.dial
			if server {
				want = tc.server
			}
			// A native name keeps RestrictToUser away from the file system.
			got, err := resolveName("@x", tc.flags|NativeName, server)
			if !want {
				assert.ErrorIs(t, err, ErrInvalidFlags, "flags %#x server %v", tc.flags, server)
				assert.Equal(t, -13, Status(err))
				assert.Empty(t, got)
				continue
			}
			if assert.NoError(t, err, "flags %#x server %v", tc.flags, server) {
				assert.Equal(t, "@x", got)
			}
		}
	}
}

func TestPathUsesTheDialMask(t *testing.T) {
	got, err := Path("x", AllowIdentification)
	require.NoError(t, err)
	assert.Equal(t, portable("x"), got)

	_, err = Path("x", 1<<3)
	assert.ErrorIs(t, err, ErrInvalidFlags)
}

// IPRT checks the flags before the name.
func TestFlagsCheckedBeforeName(t *testing.T) {
	for _, server := range []bool{true, false} {
		_, err := resolveName("", 1<<3, server)
		assert.ErrorIs(t, err, ErrInvalidFlags)
		assert.NotErrorIs(t, err, ErrInvalidName)
	}
}

func TestPathRestrictToUserWindows(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Skip("Unix placement is in name_unix_test.go")
	}
	// IPRT trunk: the logon session's namespace, with our session and logon
	// ids (windows_test.go checks the digits' format).
	got, err := Path("x", RestrictToUser)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got, `\\.\pipe\LOCAL\IPRT-`), got)
	assert.True(t, strings.HasSuffix(got, "-x"), got)
}
