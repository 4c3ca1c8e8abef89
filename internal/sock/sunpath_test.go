package sock

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSunPathRule(t *testing.T) {
	const portable = "/tmp/.iprt-localipc-" // IPRT's prefix for portable names
	cases := []struct {
		name string
		path string
		size int
		fits bool
	}{
		{"BSD: the longest portable name, 83 bytes", portable + strings.Repeat("n", 83), sunPathBSD, true},
		{"BSD: a portable name of 84 bytes", portable + strings.Repeat("n", 84), sunPathBSD, false},
		{"Linux: the longest portable name, 87 bytes", portable + strings.Repeat("n", 87), 108, true},
		{"Linux: a portable name of 88 bytes", portable + strings.Repeat("n", 88), 108, false},
		{"BSD: a native path filling sun_path with its NUL", "/" + strings.Repeat("p", 102), sunPathBSD, true},
		{"BSD: one byte more", "/" + strings.Repeat("p", 103), sunPathBSD, false},
		{"BSD: '@' costs the two bytes of ./", "@" + strings.Repeat("a", 100), sunPathBSD, true},
		{"BSD: '@' one byte more", "@" + strings.Repeat("a", 101), sunPathBSD, false},
		{"an '@' inside a path costs nothing", "/x@" + strings.Repeat("a", 100), sunPathBSD, true},
	}
	for _, c := range cases {
		assert.Equal(t, c.fits, fitsSunPath(c.path, c.size), "%s (%d bytes)", c.name, len(c.path))
	}
}
