//go:build unix

package localipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/localipc/localipc/internal/sock"
)

const (
	portablePrefix = "/tmp/.iprt-localipc-" // RTLOCALIPC_POSIX_NAME_PREFIX
	userPrefix     = ".iprt-"               // RTLOCALIPC_POSIX_USER_NAME_PREFIX
	homeNamespace  = ".iprt-localipc"
)

// passwdHome looks up a user's home directory in the user database. Tests
// replace it: they run as root, for whom the database comes before $HOME.
var passwdHome = func(uid int) (string, error) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

func namePath(name string, flags Flags) (string, error) {
	switch {
	case flags&NativeName != 0:
		// A leading '@' reaches the kernel as "./@name": x/sys would read a
		// bare one as Linux's abstract namespace, and a native name is always
		// a file. The two bytes count against sun_path (IPRT: 107, here 105).
		return fitSunPath(name)
	case flags&RestrictToUser != 0:
		return userPath(name)
	}
	return fitSunPath(portablePrefix + name)
}

// fitSunPath returns path if it fits sun_path (sock.FitPath).
func fitSunPath(path string) (string, error) {
	if err := sock.FitPath(path); err != nil {
		return "", err
	}
	return path, nil
}

// userPath places a RestrictToUser name as IPRT trunk does: in the first
// runtime directory that is private to us and can hold the name, else in
// ~/.iprt-localipc. A runtime directory that fails is skipped without a word,
// since the environment may point anywhere; a home directory that fails is an
// error, since it is the last resort.
func userPath(name string) (string, error) {
	euid := os.Geteuid()
	var dirs []string
	if dir := os.Getenv("XDG_RUNTIME_DIR"); strings.HasPrefix(dir, "/") {
		dirs = append(dirs, dir)
	}
	if runtime.GOOS == "linux" {
		dirs = append(dirs, "/run/user/"+strconv.Itoa(euid))
	}
	for _, dir := range dirs {
		if userNameFits(dir, name) && checkDir(dir, euid, 0o077) == nil {
			return userSocketPath(dir, name), nil
		}
	}

	dir, err := homeNamespaceDir(euid)
	if err != nil {
		return "", err
	}
	if !userNameFits(dir, name) {
		return "", fmt.Errorf("%w: %s in %s does not fit sun_path (%d bytes with its NUL)",
			ErrNameTooLong, userPrefix+name, dir, sock.SunPathSize)
	}
	return userSocketPath(dir, name), nil
}

// userNameFits is IPRT's test of whether name fits under dir, made on dir as
// given: a run of trailing slashes counts in full although userSocketPath
// keeps only one of them, so a directory spelt with extra slashes is refused
// a byte or more early, as IPRT refuses it.
func userNameFits(dir, name string) bool {
	n := len(dir) + len(userPrefix) + len(name) + 1 // the NUL
	if !strings.HasSuffix(dir, "/") {
		n++
	}
	return dir != "" && n <= sock.SunPathSize
}

// userSocketPath joins by hand, not with filepath.Join: the path must be the
// very string IPRT builds, or an IPRT peer with the same environment would
// not meet us, and Path and Addr would spell it another way. IPRT's
// RTPathAppend adds a '/' where there is none and reduces a run of trailing
// slashes to one ("/run/x//" and "/run/x/" both give "/run/x/.iprt-N"); it
// cleans nothing else, so "/run//x" keeps its doubled slash.
func userSocketPath(dir, name string) string {
	return strings.TrimRight(dir, "/") + "/" + userPrefix + name
}

// homeNamespaceDir returns ~/.iprt-localipc, creating it if needed.
func homeNamespaceDir(euid int) (string, error) {
	home, err := userHome(euid)
	if err != nil {
		// IPRT's RTPathUserHome reports VERR_PATH_NOT_FOUND whatever was
		// missing (no $HOME, no user database entry, a home that is not a
		// directory), so every way of not finding one is ErrPathNotFound
		// here, with the reason kept in the chain.
		return "", fmt.Errorf("%w: RestrictToUser needs a home directory: %w", ErrPathNotFound, err)
	}
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("%w: home directory %q is not absolute", ErrInvalidName, home)
	}
	if home, err = filepath.EvalSymlinks(home); err != nil {
		return "", err
	}
	// The home directory may be group-readable, but no one else may be able
	// to swap our namespace directory for theirs.
	if err := checkDir(home, euid, 0o022); err != nil {
		return "", err
	}
	dir := filepath.Join(home, homeNamespace)
	switch err := os.Mkdir(dir, 0o700); {
	case err == nil:
		// Mkdir applied the umask, which may have taken the owner's own
		// write or search bit.
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", err
		}
	case !errors.Is(err, fs.ErrExist):
		return "", err
	}
	if err := checkDir(dir, euid, 0o077); err != nil {
		return "", err
	}
	return dir, nil
}

// userHome finds the home directory as IPRT's RTPathUserHome does: $HOME
// first, then the user database, except for root, where sudo leaves the
// caller's $HOME behind and trusting it would put root's files in a user's
// home. Each candidate must name an existing directory.
func userHome(euid int) (string, error) {
	fromEnv := func() (string, error) { return existingDir(os.Getenv("HOME")) }
	fromPasswd := func() (string, error) {
		home, err := passwdHome(euid)
		if err != nil {
			return "", err
		}
		return existingDir(home)
	}
	first, second := fromEnv, fromPasswd
	if euid == 0 {
		first, second = fromPasswd, fromEnv
	}
	if home, err := first(); err == nil {
		return home, nil
	}
	return second()
}

func existingDir(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", &fs.PathError{Op: "stat", Path: path, Err: syscall.ENOTDIR}
	}
	return path, nil
}

// checkDir accepts dir if it is a directory (not a symlink to one) owned by
// euid, which the owner can write and search, and whose mode has none of the
// forbidden bits. Anything else is ErrAccessDenied: whoever else controls the
// directory could read, replace or squat on our socket.
func checkDir(dir string, euid int, forbidden fs.FileMode) error {
	// lstat "dir/" would follow a symlink; the trailing slashes go, the root stays.
	name := strings.TrimRight(dir, "/")
	if name == "" {
		name = "/"
	}
	fi, err := os.Lstat(name)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	perm := fi.Mode().Perm()
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is not a directory", ErrAccessDenied, dir)
	case !ok || int(st.Uid) != euid:
		return fmt.Errorf("%w: %s is not owned by uid %d", ErrAccessDenied, dir, euid)
	case perm&0o300 != 0o300:
		return fmt.Errorf("%w: %s (mode %#o) lacks owner write or search permission", ErrAccessDenied, dir, perm)
	case perm&forbidden != 0:
		return fmt.Errorf("%w: %s (mode %#o) is open to group or others", ErrAccessDenied, dir, perm)
	}
	return nil
}
