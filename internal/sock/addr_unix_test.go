//go:build unix

package sock

import (
	"strings"
	"testing"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSockAddr(t *testing.T) {
	longest := "/" + strings.Repeat("x", SunPathSize-2) // with its NUL, fills sun_path
	cases := []struct {
		name, path string
		fsPath     string // what names the file, when err is nil
		err        error
	}{
		{"absolute", "/tmp/.iprt-localipc-x", "/tmp/.iprt-localipc-x", nil},
		{"relative", "s.sock", "s.sock", nil},
		{"at sign is a file", "@name", "./@name", nil},
		{"at sign inside", "/tmp/@name", "/tmp/@name", nil},
		{"longest", longest, longest, nil},
		{"one byte too long", longest + "x", "", ipcerr.ErrNameTooLong},
		{"at sign fits only without ./", "@" + longest[2:], "", ipcerr.ErrNameTooLong},
		{"empty", "", "", ipcerr.ErrInvalidName},
		{"NUL", "/tmp/a\x00b", "", ipcerr.ErrInvalidName},
		{"leading NUL", "\x00abstract", "", ipcerr.ErrInvalidName},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsPath, sa, err := sockAddr(tc.path)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Nil(t, sa)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.fsPath, fsPath)
			assert.Equal(t, tc.fsPath, sa.Name)
		})
	}
}
