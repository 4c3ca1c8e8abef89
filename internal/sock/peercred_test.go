package sock

import (
	"encoding/binary"
	"testing"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// words lays out 32-bit fields in the machine's order, as the kernel writes
// them, at the given byte offsets, in a buffer of size bytes.
func words(size int, fields map[int]uint32) []byte {
	b := make([]byte, size)
	for off, v := range fields {
		binary.NativeEndian.PutUint32(b[off:], v)
	}
	return b
}

// xucredBytes is a struct xucred as the kernel fills it: version 0, uid,
// ngroups groups of which the first is gid; pidOff < 0 leaves no pid.
func xucredBytes(size int, uid, gid uint32, ngroups uint16, pidOff int, pid uint32) []byte {
	f := map[int]uint32{xucredUIDOff: uid, xucredGroupsOff: gid, xucredGroupsOff + 4: 999}
	if pidOff >= 0 {
		f[pidOff] = pid
	}
	b := words(size, f)
	binary.NativeEndian.PutUint16(b[xucredNgroupOff:], ngroups)
	return b
}

func TestXucredPIDOffset(t *testing.T) {
	assert.Equal(t, 76, xucredPIDOffset(4), "32-bit: the union follows the groups")
	assert.Equal(t, 80, xucredPIDOffset(8), "64-bit: the union is aligned as a pointer")
}

func TestDecodeXucred(t *testing.T) {
	for _, ptr := range []int{4, 8} {
		off := xucredPIDOffset(ptr)
		size := off + ptr // sizeof(struct xucred) on FreeBSD 13
		t.Run(map[int]string{4: "32-bit", 8: "64-bit"}[ptr], func(t *testing.T) {
			c, err := decodeXucred(xucredBytes(size, 1001, 20, 2, off, 4242), off)
			require.NoError(t, err)
			assert.Equal(t, Cred{PID: 4242, UID: 1001, GID: 20}, c, "FreeBSD 13: the pid comes with the ids")

			c, err = decodeXucred(xucredBytes(size, 1001, 20, 2, off, 0), off)
			require.NoError(t, err)
			assert.Equal(t, -1, c.PID, "FreeBSD 12: a NULL pointer where the pid goes")
			assert.ErrorIs(t, c.PIDErr, ipcerr.ErrNotSupported)
			assert.Equal(t, 1001, c.UID)

			c, err = decodeXucred(xucredBytes(size, 1001, 20, 2, off, 4242)[:off+2], off)
			require.NoError(t, err, "a struct cut short of its pid still has the ids")
			assert.ErrorIs(t, c.PIDErr, ipcerr.ErrNotSupported)
		})
	}

	t.Run("no pid in the struct (macOS, DragonFly)", func(t *testing.T) {
		c, err := decodeXucred(xucredBytes(xucredGroupsEnd, 0, 0, 1, -1, 0), -1)
		require.NoError(t, err)
		assert.Equal(t, 0, c.UID, "root")
		assert.Equal(t, 0, c.GID, "wheel")
		assert.Equal(t, -1, c.PID)
		assert.ErrorIs(t, c.PIDErr, ipcerr.ErrNotSupported)
	})

	t.Run("rejected", func(t *testing.T) {
		bad := xucredBytes(xucredGroupsEnd, 1, 1, 1, -1, 0)
		binary.NativeEndian.PutUint32(bad, 1)
		for name, b := range map[string][]byte{
			"empty":             nil,
			"short of a group":  xucredBytes(xucredGroupsEnd, 1, 1, 1, -1, 0)[:xucredGroupsOff+3],
			"no groups":         xucredBytes(xucredGroupsEnd, 1, 1, 0, -1, 0),
			"a negative count":  xucredBytes(xucredGroupsEnd, 1, 1, 0xffff, -1, 0),
			"an unknown layout": bad,
		} {
			c, err := decodeXucred(b, xucredPIDOffset(8))
			assert.Error(t, err, name)
			assert.Equal(t, noCred, c, name)
		}
	})
}

func TestXucredIDs(t *testing.T) {
	c, err := xucredIDs(0, 501, 3, 20)
	require.NoError(t, err)
	assert.Equal(t, 501, c.UID)
	assert.Equal(t, 20, c.GID)
	assert.Equal(t, -1, c.PID)
	assert.ErrorIs(t, c.PIDErr, ipcerr.ErrNotSupported)
	_, err = xucredIDs(1, 501, 3, 20)
	assert.Error(t, err)
}

func TestDecodeSockpeercred(t *testing.T) {
	b := words(sockpeercredSize, map[int]uint32{0: 1000, 4: 1000, 8: 31337})
	c, err := decodeSockpeercred(b)
	require.NoError(t, err)
	assert.Equal(t, Cred{UID: 1000, GID: 1000, PID: 31337}, c, "uid, gid, pid in that order")

	// OpenBSD's call reads it into a 32-byte buffer, zero past the struct.
	c, err = decodeSockpeercred(append(b, make([]byte, 20)...))
	require.NoError(t, err)
	assert.Equal(t, Cred{UID: 1000, GID: 1000, PID: 31337}, c)

	_, err = decodeSockpeercred(b[:11])
	assert.Error(t, err)
}

func TestDecodeUnpcbid(t *testing.T) {
	b := words(unpcbidSize, map[int]uint32{0: 31337, 4: 1000, 8: 100})
	c, err := decodeUnpcbid(b)
	require.NoError(t, err)
	assert.Equal(t, Cred{PID: 31337, UID: 1000, GID: 100}, c, "pid, euid, egid in that order")

	c, err = decodeUnpcbid(words(unpcbidSize, map[int]uint32{0: 1, 4: 0, 8: 0}))
	require.NoError(t, err)
	assert.Equal(t, Cred{PID: 1, UID: 0, GID: 0}, c, "init, as root")

	_, err = decodeUnpcbid(b[:8])
	assert.Error(t, err)
}
