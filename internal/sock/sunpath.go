package sock

import "strings"

// sunPathBSD is sizeof(sun_path) on the BSDs and macOS; Linux has 108.
const sunPathBSD = 104

// fitsSunPath is the name-length rule without the OS: path fits a sun_path
// of size bytes when the path the kernel gets (a leading '@' spelled "./@",
// see sockAddr) and its NUL do. With the portable prefix
// "/tmp/.iprt-localipc-" that leaves 83 bytes for a name on the BSDs and
// macOS, 87 on Linux. FitPath applies this system's size; the Linux tests
// check the rule at both sizes, and that FitPath agrees with it.
func fitsSunPath(path string, size int) bool {
	n := len(path)
	if strings.HasPrefix(path, "@") {
		n += len("./")
	}
	return n+1 <= size
}
