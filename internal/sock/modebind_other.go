//go:build unix && !linux

package sock

import "os"

// modeBeforeBind does nothing: the BSDs and macOS make bind(2)'s file with
// the umask's mode alone, and refuse fchmod on a socket. A client that
// passes the permission check in the moment between bind and the chmod, and
// connects after listen(2), is let in there (docs/design.md, "Access mode
// before the first connect").
func modeBeforeBind(int, os.FileMode) error { return nil }
