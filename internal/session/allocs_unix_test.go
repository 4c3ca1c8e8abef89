//go:build unix

package session_test

import (
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The blocking face's calls allocate nothing: a server that makes millions
// of them must not feed the garbage collector for it.
func TestBlockingCallsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	a, b := pair(t)
	msg := []byte("0123456789abcdef")
	buf := make([]byte, len(msg))
	cases := []struct {
		name string
		call func()
	}{
		{"Write then Read", func() {
			_, werr := a.Write(msg)
			n, rerr := b.Read(buf)
			if werr != nil || rerr != nil || n != len(msg) {
				t.Fatalf("write %v, read %d %v", werr, n, rerr)
			}
		}},
		{"SetWriteDeadline, Write with a deadline, then Read", func() {
			// net.Conn code often sets a deadline before each write.
			if err := a.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatalf("SetWriteDeadline: %v", err)
			}
			_, werr := a.Write(msg)
			n, rerr := b.Read(buf)
			if werr != nil || rerr != nil || n != len(msg) {
				t.Fatalf("write %v, read %d %v", werr, n, rerr)
			}
		}},
		{"ReadNB on nothing", func() {
			if _, err := b.ReadNB(buf); err != ipcerr.ErrTryAgain {
				t.Fatalf("ReadNB: %v", err)
			}
		}},
		{"WaitForData(0) on nothing", func() {
			if err := b.WaitForData(0); err != ipcerr.ErrTimeout {
				t.Fatalf("WaitForData(0): %v", err)
			}
		}},
		{"WaitForData on data, then ReadNB", func() {
			_, werr := a.Write(msg)
			require.NoError(t, werr)
			if err := b.WaitForData(infinite); err != nil {
				t.Fatalf("WaitForData: %v", err)
			}
			if n, err := b.ReadNB(buf); err != nil || n != len(msg) {
				t.Fatalf("ReadNB: %d %v", n, err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.call() // warm up: first-use costs are not per call
			assert.Zero(t, testing.AllocsPerRun(200, tc.call))
		})
	}
}
