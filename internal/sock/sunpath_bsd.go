//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

// sun_path is 104 bytes on every BSD and on macOS, the size the Linux tests
// check the name-length rule at: a build for a system where x/sys says
// otherwise fails here.
var (
	_ [SunPathSize - sunPathBSD]struct{}
	_ [sunPathBSD - SunPathSize]struct{}
)
