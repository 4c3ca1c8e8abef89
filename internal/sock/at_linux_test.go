package sock

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A native name with a leading '@' is a file of that name in the current
// directory, never Linux's abstract namespace.
func TestAtNameIsAFile(t *testing.T) {
	checkFDs(t)
	t.Chdir(t.TempDir())
	lfd, ino := listenT(t, "@name")

	st := lstatT(t, "@name")
	assert.Equal(t, uint32(unix.S_IFSOCK), st.Mode&unix.S_IFMT)
	assert.Equal(t, st.Ino, ino)
	assert.False(t, abstractSocketExists(t, "@name"), "/proc/net/unix lists no abstract @name")

	d := net.Dialer{Timeout: 5 * time.Second}
	if c, err := d.Dial("unix", "@name"); err == nil {
		c.Close()
		t.Fatal("an abstract @name answered")
	}

	client := dialT(t, "@name")
	server := acceptT(t, lfd)
	_, err := Send(client, []byte("@"))
	require.NoError(t, err)
	assert.Equal(t, []byte("@"), readT(t, server, 1))

	unix.Close(lfd)
	require.NoError(t, Unlink("@name", ino))
	_, err = os.Lstat("@name")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func abstractSocketExists(t *testing.T, name string) bool {
	t.Helper()
	f, err := os.Open("/proc/net/unix")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 8 && fields[7] == name {
			return true
		}
	}
	require.NoError(t, sc.Err())
	return false
}
