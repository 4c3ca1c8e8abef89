package sock

import (
	"os"

	"golang.org/x/sys/unix"
)

// modeBeforeBind gives the socket the permission bits that bind(2) gives the
// file it creates (less the umask): Linux takes them from the socket's inode.
func modeBeforeBind(fd int, mode os.FileMode) error {
	return unix.Fchmod(fd, uint32(mode.Perm()))
}
