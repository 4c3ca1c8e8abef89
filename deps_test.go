package localipc_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/localipc/localipc"

// The layers of the module, as Go's own deps_test keeps the standard
// library's: every library package may import only the standard library,
// golang.org/x/sys, and the layers below its own; the tooling above the
// facade (workload, testutil) may import anything, and nothing of the
// library imports it.
var layers = []struct {
	layer    string
	packages []string
	may      []string // the module's packages it may import
}{
	{"floor", []string{"internal/ipcerr", "internal/winapi"}, nil},
	{"floor", []string{"internal/sock"}, []string{"internal/ipcerr"}},
	{"reactor", []string{"reactor"}, []string{"internal/ipcerr", "internal/sock", "internal/winapi"}},
	{"faces", []string{"internal/session"}, []string{"internal/ipcerr", "internal/sock", "internal/winapi", "reactor"}},
	{"facade", []string{""}, []string{"internal/ipcerr", "internal/sock", "internal/session", "internal/winapi", "reactor"}},
}

func TestDependencies(t *testing.T) {
	for _, l := range layers {
		for _, pkg := range l.packages {
			path := strings.TrimSuffix(module+"/"+pkg, "/")
			t.Run(l.layer+" "+path, func(t *testing.T) {
				allowed := map[string]bool{}
				for _, p := range l.may {
					allowed[module+"/"+p] = true
				}
				for _, dep := range deps(t, path) {
					switch {
					case dep == path, allowed[dep]:
					case strings.HasPrefix(dep, module+"/"), dep == module:
						t.Errorf("%s imports %s, which is not below it", path, dep)
					case strings.Contains(strings.SplitN(dep, "/", 2)[0], "."):
						// Outside the standard library: only x/sys.
						assert.True(t, strings.HasPrefix(dep, "golang.org/x/sys/"), "%s depends on %s", path, dep)
					}
				}
			})
		}
	}
}

// deps lists what pkg depends on, directly or not, without its tests, for
// every system localipc builds on: a file for one system must keep the rule
// too.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	skipUnderWine(t, "the host's go command does not run inside Wine")
	seen := map[string]bool{}
	for _, goos := range []string{"linux", "darwin", "freebsd", "netbsd", "openbsd", "windows"} {
		// -e: a package with files for some systems only (internal/winapi) is
		// listed, not an error, on the others.
		cmd := exec.Command("go", "list", "-e", "-deps", "-f", "{{.ImportPath}}", pkg)
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		require.NoError(t, err, "go list for %s: %s", goos, out)
		for _, dep := range strings.Fields(string(out)) {
			seen[dep] = true
		}
	}
	list := make([]string, 0, len(seen))
	for dep := range seen {
		list = append(list, dep)
	}
	return list
}
