//go:build unix

package localipc

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/localipc/localipc/internal/sock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSunPathLimits(t *testing.T) {
	maxName := sock.SunPathSize - len("/tmp/.iprt-localipc-") - 1
	want := map[string]int{"linux": 87, "darwin": 83, "freebsd": 83, "openbsd": 83, "netbsd": 83, "dragonfly": 83}
	if w, ok := want[runtime.GOOS]; ok {
		require.Equal(t, w, maxName, "longest portable name on %s", runtime.GOOS)
	}

	for _, flags := range []Flags{0, AllowIdentification} {
		name := strings.Repeat("n", maxName)
		got, err := Path(name, flags)
		require.NoError(t, err)
		assert.Equal(t, "/tmp/.iprt-localipc-"+name, got)

		got, err = Path(name+"n", flags)
		assert.ErrorIs(t, err, ErrNameTooLong)
		assert.Equal(t, -120, Status(err))
		assert.Empty(t, got)
	}

	native := "/" + strings.Repeat("p", sock.SunPathSize-2)
	got, err := Path(native, NativeName)
	require.NoError(t, err)
	assert.Equal(t, native, got)
	_, err = Path(native+"p", NativeName)
	assert.ErrorIs(t, err, ErrNameTooLong)
}

// fakeUser points XDG_RUNTIME_DIR and HOME at fresh private directories and
// hides the user database, so that root, whose home the database names first,
// falls back to $HOME like everyone else.
func fakeUser(t *testing.T) (runtimeDir, home string) {
	runtimeDir, home = privateTempDir(t), privateTempDir(t)
	t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	t.Setenv("HOME", home)
	stubPasswd(t, func(int) (string, error) { return "", fmt.Errorf("no user database in tests: %w", fs.ErrNotExist) })
	return runtimeDir, home
}

// privateTempDir is a 0700 temporary directory under its real name, since
// the home directory is compared after symlinks are resolved.
func privateTempDir(t *testing.T) string {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o700))
	return dir
}

func stubPasswd(t *testing.T, f func(int) (string, error)) {
	saved := passwdHome
	passwdHome = f
	t.Cleanup(func() { passwdHome = saved })
}

// runUserValid reports whether this machine has a /run/user/<euid> that
// takes precedence over the home directory.
func runUserValid() bool {
	return runtime.GOOS == "linux" && checkDir(runUserDir(), os.Geteuid(), 0o077) == nil
}

func runUserDir() string { return "/run/user/" + strconv.Itoa(os.Geteuid()) }

// wantFallback is where a name lands once $XDG_RUNTIME_DIR is refused.
func wantFallback(home, name string) string {
	if runUserValid() {
		return runUserDir() + "/.iprt-" + name
	}
	return home + "/.iprt-localipc/.iprt-" + name
}

// skipUnlessHomeFallback skips tests of the home directory step on machines
// where /run/user/<euid> answers first.
func skipUnlessHomeFallback(t *testing.T) {
	if runUserValid() {
		t.Skipf("%s is valid and comes before the home directory", runUserDir())
	}
}

func TestRestrictToUserRuntimeDir(t *testing.T) {
	runtimeDir, home := fakeUser(t)
	for _, server := range []bool{true, false} {
		got, err := resolveName("svc", RestrictToUser, server)
		require.NoError(t, err)
		assert.Equal(t, runtimeDir+"/.iprt-svc", got)
	}

	// IPRT adds no '/' after one that is there, and cuts a run of trailing
	// slashes to one; a doubled slash inside stays.
	for _, tc := range []struct{ xdg, want string }{
		{runtimeDir + "/", runtimeDir + "/.iprt-svc"},
		{runtimeDir + "//", runtimeDir + "/.iprt-svc"},
		{runtimeDir + "///", runtimeDir + "/.iprt-svc"},
		{filepath.Dir(runtimeDir) + "//" + filepath.Base(runtimeDir), filepath.Dir(runtimeDir) + "//" + filepath.Base(runtimeDir) + "/.iprt-svc"},
		{filepath.Dir(runtimeDir) + "//" + filepath.Base(runtimeDir) + "//", filepath.Dir(runtimeDir) + "//" + filepath.Base(runtimeDir) + "/.iprt-svc"},
	} {
		t.Setenv("XDG_RUNTIME_DIR", tc.xdg)
		for _, server := range []bool{true, false} {
			got, err := resolveName("svc", RestrictToUser, server)
			require.NoError(t, err, "XDG_RUNTIME_DIR=%q", tc.xdg)
			assert.Equal(t, tc.want, got, "XDG_RUNTIME_DIR=%q", tc.xdg)
		}
	}

	assert.NoDirExists(t, filepath.Join(home, ".iprt-localipc"), "nothing is created when the runtime dir is taken")
}

func TestRestrictToUserRefusedRuntimeDir(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		setup func(t *testing.T, dir string) string // returns the XDG_RUNTIME_DIR value
	}{
		{"mode 0777", chmodDir(0o777)},
		{"mode 0750", chmodDir(0o750)},
		{"mode 0701", chmodDir(0o701)},
		{"mode 0704", chmodDir(0o704)},
		{"no owner write", chmodDir(0o500)},
		{"no owner search", chmodDir(0o600)},
		{"symlink", symlinkTo},
		{"symlink with slash", func(t *testing.T, dir string) string { return symlinkTo(t, dir) + "/" }},
		{"regular file", func(t *testing.T, dir string) string {
			file := filepath.Join(dir, "file")
			require.NoError(t, os.WriteFile(file, nil, 0o700))
			return file
		}},
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "missing") }},
		{"relative", func(t *testing.T, dir string) string {
			t.Chdir(filepath.Dir(dir))
			return filepath.Base(dir)
		}},
		{"empty", func(*testing.T, string) string { return "" }},
		{"too long for the name", func(t *testing.T, dir string) string {
			deep := filepath.Join(dir, strings.Repeat("d", sock.SunPathSize-len(dir)))
			require.NoError(t, os.Mkdir(deep, 0o700))
			return deep
		}},
		{"another owner", func(t *testing.T, dir string) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a directory away")
			}
			require.NoError(t, os.Chown(dir, 65534, 65534))
			return dir
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			runtimeDir, home := fakeUser(t)
			xdg := tc.setup(t, runtimeDir)
			t.Setenv("XDG_RUNTIME_DIR", xdg)

			got, err := Path("svc", RestrictToUser)
			require.NoError(t, err)
			assert.Equal(t, wantFallback(home, "svc"), got)
			if xdg != "" {
				assert.False(t, strings.HasPrefix(got, xdg), "landed in the refused %s", xdg)
			}
			if !runUserValid() {
				assertPrivateDir(t, filepath.Join(home, ".iprt-localipc"))
			}
		})
	}
}

func chmodDir(mode fs.FileMode) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		require.NoError(t, os.Chmod(dir, mode))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) }) // so that TempDir can remove it
		return dir
	}
}

// symlinkTo returns a link to dir, which itself would be accepted.
func symlinkTo(t *testing.T, dir string) string {
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(dir, link))
	return link
}

func assertPrivateDir(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Lstat(dir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
}

func TestUserSocketPath(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"/run/user/1000", "/run/user/1000/.iprt-x"},
		{"/run/user/1000/", "/run/user/1000/.iprt-x"},
		{"/run/user/1000//", "/run/user/1000/.iprt-x"},
		{"/run//user/1000//", "/run//user/1000/.iprt-x"},
		{"/", "/.iprt-x"},
		{"//", "/.iprt-x"},
	} {
		assert.Equal(t, tc.want, userSocketPath(tc.dir, "x"), "dir %q", tc.dir)
	}
}

// IPRT measures the directory as given, extra trailing slashes included, so a
// name that would just fit after they are cut is still refused there.
func TestRestrictToUserFitCountsTrailingSlashes(t *testing.T) {
	runtimeDir, home := fakeUser(t)
	longest := sock.SunPathSize - len(runtimeDir+"/.iprt-") - 1
	name := strings.Repeat("n", longest)

	t.Setenv("XDG_RUNTIME_DIR", runtimeDir+"/")
	got, err := Path(name, RestrictToUser)
	require.NoError(t, err)
	assert.Equal(t, runtimeDir+"/.iprt-"+name, got)
	require.Len(t, got, sock.SunPathSize-1)

	t.Setenv("XDG_RUNTIME_DIR", runtimeDir+"//")
	got, err = Path(name, RestrictToUser)
	if err == nil {
		assert.NotEqual(t, runtimeDir+"/.iprt-"+name, got, "one byte too long as IPRT counts it")
		assert.Equal(t, wantFallback(home, name), got)
	} else {
		// The fallback directory has a longer name than the temporary one.
		assert.ErrorIs(t, err, ErrNameTooLong)
	}
}

func TestRestrictToUserNameFitsNowhere(t *testing.T) {
	fakeUser(t)
	got, err := Path(strings.Repeat("n", sock.SunPathSize), RestrictToUser)
	assert.ErrorIs(t, err, ErrNameTooLong)
	assert.Empty(t, got)
}

func TestRestrictToUserHome(t *testing.T) {
	skipUnlessHomeFallback(t)
	_, home := fakeUser(t)
	t.Setenv("XDG_RUNTIME_DIR", "")

	got, err := Path("svc", RestrictToUser)
	require.NoError(t, err)
	assert.Equal(t, home+"/.iprt-localipc/.iprt-svc", got)
	assertPrivateDir(t, filepath.Join(home, ".iprt-localipc"))

	// The second time the directory exists already.
	got, err = Path("svc", RestrictToUser)
	require.NoError(t, err)
	assert.Equal(t, home+"/.iprt-localipc/.iprt-svc", got)
}

func TestRestrictToUserHomeThroughSymlink(t *testing.T) {
	skipUnlessHomeFallback(t)
	_, home := fakeUser(t)
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("HOME", symlinkTo(t, home))

	got, err := Path("svc", RestrictToUser)
	require.NoError(t, err)
	assert.Equal(t, home+"/.iprt-localipc/.iprt-svc", got)
}

// Mkdir obeys the umask; the directory must still end up 0700.
func TestRestrictToUserHomeUmask(t *testing.T) {
	skipUnlessHomeFallback(t)
	_, home := fakeUser(t)
	t.Setenv("XDG_RUNTIME_DIR", "")
	defer syscall.Umask(syscall.Umask(0o277))

	_, err := Path("svc", RestrictToUser)
	require.NoError(t, err)
	assertPrivateDir(t, filepath.Join(home, ".iprt-localipc"))
}

func TestRestrictToUserHomeErrors(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		setup   func(t *testing.T, home string)
		wantErr error
	}{
		{"home writable by others", func(t *testing.T, home string) {
			require.NoError(t, os.Chmod(home, 0o777))
		}, ErrAccessDenied},
		{"home writable by group", func(t *testing.T, home string) {
			require.NoError(t, os.Chmod(home, 0o770))
		}, ErrAccessDenied},
		{"home relative", func(t *testing.T, home string) {
			t.Chdir(filepath.Dir(home))
			t.Setenv("HOME", filepath.Base(home))
		}, ErrInvalidName},
		{"no home", func(t *testing.T, home string) {
			t.Setenv("HOME", filepath.Join(home, "missing"))
		}, ErrPathNotFound},
		{"namespace dir open to others", func(t *testing.T, home string) {
			require.NoError(t, os.Mkdir(filepath.Join(home, ".iprt-localipc"), 0o755))
			require.NoError(t, os.Chmod(filepath.Join(home, ".iprt-localipc"), 0o755))
		}, ErrAccessDenied},
		{"namespace dir is a symlink", func(t *testing.T, home string) {
			require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(home, ".iprt-localipc")))
		}, ErrAccessDenied},
		{"namespace dir is a file", func(t *testing.T, home string) {
			require.NoError(t, os.WriteFile(filepath.Join(home, ".iprt-localipc"), nil, 0o700))
		}, ErrAccessDenied},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			skipUnlessHomeFallback(t)
			_, home := fakeUser(t)
			t.Setenv("XDG_RUNTIME_DIR", "")
			t.Cleanup(func() { _ = os.Chmod(home, 0o700) })
			tc.setup(t, home)

			got, err := Path("svc", RestrictToUser)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Empty(t, got)
		})
	}
}

// With no usable runtime directory and no home directory, whatever the
// reason it is missing, IPRT's RTPathUserHome gives VERR_PATH_NOT_FOUND.
func TestRestrictToUserNoHome(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		home   func(t *testing.T, dir string) (env string, unset bool)
		passwd func(dir string) (string, error)
		cause  error // also in the chain; nil: not checked
	}{
		{"HOME unset, passwd home missing",
			func(*testing.T, string) (string, bool) { return "", true },
			func(dir string) (string, error) { return filepath.Join(dir, "missing"), nil },
			fs.ErrNotExist},
		{"HOME empty, no passwd entry",
			func(*testing.T, string) (string, bool) { return "", false },
			func(string) (string, error) { return "", fmt.Errorf("no such user: %w", fs.ErrNotExist) },
			nil},
		{"HOME missing, passwd home empty",
			func(t *testing.T, dir string) (string, bool) { return filepath.Join(dir, "missing"), false },
			func(string) (string, error) { return "", nil },
			nil},
		{"HOME and passwd home are files",
			func(t *testing.T, dir string) (string, bool) {
				file := filepath.Join(dir, "file")
				require.NoError(t, os.WriteFile(file, nil, 0o600))
				return file, false
			},
			func(dir string) (string, error) { return filepath.Join(dir, "file"), nil },
			nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			skipUnlessHomeFallback(t)
			fakeUser(t)
			dir := t.TempDir()
			t.Setenv("XDG_RUNTIME_DIR", "")
			env, unset := tc.home(t, dir)
			t.Setenv("HOME", env)
			if unset {
				require.NoError(t, os.Unsetenv("HOME")) // t.Setenv restores it
			}
			stubPasswd(t, func(int) (string, error) { return tc.passwd(dir) })

			for _, server := range []bool{true, false} {
				got, err := resolveName("svc", RestrictToUser, server)
				require.ErrorIs(t, err, ErrPathNotFound)
				assert.Equal(t, -103, Status(err))
				assert.NotErrorIs(t, err, ErrNotFound, "-102 is a missing server, not a missing home")
				if tc.cause != nil {
					assert.ErrorIs(t, err, tc.cause)
				}
				assert.Empty(t, got)
			}
		})
	}
}

func TestRestrictToUserHomeNameTooLong(t *testing.T) {
	skipUnlessHomeFallback(t)
	_, home := fakeUser(t)
	t.Setenv("XDG_RUNTIME_DIR", "")

	got, err := Path(strings.Repeat("n", sock.SunPathSize-len(home)), RestrictToUser)
	assert.ErrorIs(t, err, ErrNameTooLong)
	assert.Empty(t, got)
}

// Root looks in the user database before $HOME, everyone else after.
func TestUserHomeOrder(t *testing.T) {
	fromDB, fromEnv := t.TempDir(), t.TempDir()
	t.Setenv("HOME", fromEnv)
	stubPasswd(t, func(int) (string, error) { return fromDB, nil })

	home, err := userHome(0)
	require.NoError(t, err)
	assert.Equal(t, fromDB, home, "root")
	home, err = userHome(1000)
	require.NoError(t, err)
	assert.Equal(t, fromEnv, home, "non-root")

	// A candidate that is not an existing directory passes the turn.
	stubPasswd(t, func(int) (string, error) { return filepath.Join(fromDB, "missing"), nil })
	home, err = userHome(0)
	require.NoError(t, err)
	assert.Equal(t, fromEnv, home, "root without a database home")

	stubPasswd(t, func(int) (string, error) { return fromDB, nil })
	t.Setenv("HOME", "")
	home, err = userHome(1000)
	require.NoError(t, err)
	assert.Equal(t, fromDB, home, "non-root without $HOME")
}

func TestPathPortableCreatesNothing(t *testing.T) {
	name := "localipc-test-" + strconv.Itoa(os.Getpid())
	got, err := Path(name, 0)
	require.NoError(t, err)
	assert.NoFileExists(t, got)
}
