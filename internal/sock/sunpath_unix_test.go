//go:build unix

package sock

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FitPath is the rule at this system's size, so that the rule tested at the
// BSDs' size is the one their FitPath applies.
func TestFitPathIsTheRule(t *testing.T) {
	for n := 1; n <= SunPathSize+4; n++ {
		for _, path := range []string{"/" + strings.Repeat("x", n-1), "@" + strings.Repeat("x", n-1)} {
			assert.Equal(t, fitsSunPath(path, SunPathSize), FitPath(path) == nil, "%d bytes: %q", n, path)
		}
	}
}
