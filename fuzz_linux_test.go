//go:build linux

// Fuzzing the name rules: Path for any name and any flag word.

package localipc_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/sock"
	"github.com/stretchr/testify/require"
)

// FuzzPath: Path never panics; it gives the same answer twice; an accepted
// path fits sun_path and is the one IPRT's rules build (the portable prefix,
// the native name itself, or ".iprt-<name>" in a private directory); a
// refused one carries an IPRT code and one of the sentinels that name the
// reason.
func FuzzPath(f *testing.F) {
	for _, seed := range []struct {
		name  string
		flags uint32
	}{
		{"svc", 0}, {"svc", 1}, {"svc", 2}, {"svc", 3}, {"svc", 4}, {"svc", 7}, {"svc", 8},
		{"", 0}, {"a/b", 0}, {"a\\b", 0}, {"\x7f", 0}, {"é", 0}, {"é", 1},
		{"/tmp/x.sock", 1}, {"@abstract", 1}, {"nul\x00cut", 1}, {"\xed\xa0\x80", 1}, {"\xef\xbf\xbe", 1},
		{strings.Repeat("n", 87), 0}, {strings.Repeat("n", 88), 0}, {strings.Repeat("n", 106), 1},
		{"@" + strings.Repeat("n", 104), 1}, {strings.Repeat("u", 60), 2},
	} {
		f.Add(seed.name, seed.flags)
	}
	f.Fuzz(func(t *testing.T, name string, raw uint32) {
		flags := localipc.Flags(raw)
		var path string
		var err error
		require.NotPanics(t, func() { path, err = localipc.Path(name, flags) })
		again, err2 := localipc.Path(name, flags)
		require.Equal(t, path, again, "the same path twice")
		require.Equal(t, errString(err), errString(err2), "the same error twice")
		if err != nil {
			require.Empty(t, path)
			require.Less(t, localipc.Status(err), 0, "a refusal has an IPRT error code: %v", err)
			require.True(t, anyIs(err, localipc.ErrInvalidFlags, localipc.ErrInvalidName, localipc.ErrNameTooLong,
				localipc.ErrAccessDenied, localipc.ErrPathNotFound), "a refusal names its reason: %v", err)
			if raw&^uint32(localipc.NativeName|localipc.RestrictToUser|localipc.AllowIdentification) != 0 {
				require.ErrorIs(t, err, localipc.ErrInvalidFlags, "unknown bits are checked first")
			}
			return
		}
		require.NoError(t, sock.FitPath(path), "an accepted path fits sun_path")
		kernel := path
		if strings.HasPrefix(path, "@") {
			kernel = "./" + path
		}
		require.Less(t, len(kernel), sock.SunPathSize, "room for the NUL")
		require.NotContains(t, path, "\x00")
		switch {
		case flags&localipc.NativeName != 0:
			require.Equal(t, name, path, "a native name is the path")
		case flags&localipc.RestrictToUser != 0:
			require.Equal(t, ".iprt-"+name, filepath.Base(path), "a user name is one component")
			require.True(t, filepath.IsAbs(path))
		default:
			require.Equal(t, "/tmp/.iprt-localipc-"+name, path, "a portable name is one component under /tmp")
			require.NotContains(t, name, "/")
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func anyIs(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// sideModel is what IPRT's rules say one session's state is.
type sideModel struct {
	refs        int  // references; destroyed at 0
	cancelled   bool // sticky
	closeCalled bool
	inbox       int  // bytes sent to this side and not read yet
	sent, recvd byte // running counters that make each direction's bytes
}

func (m *sideModel) destroyed() bool { return m.refs <= 0 }

// wantEntry is the entry check of the I/O calls: closed wins over cancelled.
func (m *sideModel) wantEntry() int {
	switch {
	case m.destroyed():
		return ipcerr.VERR_INVALID_HANDLE
	case m.cancelled:
		return ipcerr.VERR_CANCELLED
	}
	return ipcerr.VINF_SUCCESS
}

// maxInFlight keeps every Write within the socket buffer, so that no call
// of the sequence blocks.
const maxInFlight = 32 << 10

// FuzzSessionCalls decodes the input into calls (three bytes each: the
// call, the side, an argument) on the two ends of one connection, and checks
// each result against the model: cancel is sticky and beats data waiting,
// closed wins over cancelled, Close drops one reference once, Retain and
// Release count, the descriptor goes at the last reference (the peer then
// sees the end of the stream), and every byte written arrives once, in
// order. A call that would block is not made.
func FuzzSessionCalls(f *testing.F) {
	srv, name := listen(f, 0)
	for _, seed := range [][]byte{
		{},
		{0, 0, 10, 1, 1, 10},                          // write a->b, read on b
		{0, 0, 200, 2, 1, 0, 3, 1, 0},                 // write, ReadNB, WaitForData(0)
		{4, 1, 0, 1, 1, 5, 0, 0, 3, 1, 1, 3},          // cancel b, then read and write on it
		{6, 0, 0, 0, 0, 5, 5, 0, 0, 1, 1, 5},          // retain a, close a, a still open
		{0, 1, 50, 5, 0, 0, 1, 1, 9, 3, 1, 0},         // write b->a, close a with data unread
		{7, 0, 0, 7, 0, 0, 1, 1, 1, 2, 1, 1},          // release a to zero: b sees the end
		{8, 0, 0, 5, 0, 0, 8, 0, 0, 5, 0, 0},          // flush, close, flush, close
		{6, 1, 0, 4, 1, 0, 5, 1, 0, 7, 1, 0, 0, 1, 1}, // retain, cancel, close, release
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 3*200 {
			prog = prog[:3*200]
		}
		accepted := acceptAsync(t, srv)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		client, err := localipc.DialContext(ctx, name, 0)
		cancel()
		require.NoError(t, err)
		r := within(t, accepted, 10*time.Second, "accept")
		require.NoError(t, r.err)
		s := [2]*localipc.Session{client, r.s}
		for _, sess := range s {
			// A model that let a Read block would fail here, not hang.
			require.NoError(t, sess.SetReadDeadline(time.Now().Add(10*time.Second)))
		}
		m := [2]*sideModel{{refs: 1}, {refs: 1}}
		defer func() {
			for i := range s {
				for m[i].refs > 0 {
					s[i].Release()
					m[i].refs--
				}
			}
		}()
		buf := make([]byte, 256)
		for pc := 0; pc+3 <= len(prog); pc += 3 {
			op, i, arg := prog[pc]%9, int(prog[pc+1]%2), int(prog[pc+2])
			me, peer := m[i], m[1-i]
			step := fmt.Sprintf("call %d: op %d on side %d (arg %d)", pc/3, op, i, arg)
			switch op {
			case 0: // Write
				n := arg%64 + 1
				if peer.inbox+n > maxInFlight {
					continue
				}
				p := make([]byte, n)
				for k := range p {
					p[k] = me.sent + byte(k)
				}
				got, err := s[i].Write(p)
				want := me.wantEntry()
				if want == 0 && peer.destroyed() {
					want = ipcerr.VERR_BROKEN_PIPE
				}
				require.Equal(t, want, localipc.Status(err), "%s: Write: %v", step, err)
				if want == 0 {
					require.Equal(t, n, got, step)
					me.sent += byte(n)
					peer.inbox += n
				} else {
					require.Zero(t, got, step)
				}
			case 1, 2: // Read (only where it cannot block), ReadNB
				want := me.wantEntry()
				if op == 1 && want == 0 && me.inbox == 0 && !peer.destroyed() {
					continue // would block
				}
				p := buf[:arg%len(buf)+1]
				var got int
				var err error
				if op == 1 {
					got, err = s[i].Read(p)
				} else {
					got, err = s[i].ReadNB(p)
				}
				switch {
				case want != 0:
				case me.inbox > 0:
				case !peer.destroyed():
					want = ipcerr.VINF_TRY_AGAIN
				default:
					want = ipcerr.VERR_BROKEN_PIPE // the end of the stream, or ECONNRESET
				}
				require.Equal(t, want, localipc.Status(err), "%s: read: %v", step, err)
				if want != 0 {
					require.Zero(t, got, step)
					continue
				}
				require.Positive(t, got, step)
				require.LessOrEqual(t, got, min(len(p), me.inbox), step)
				for k := 0; k < got; k++ {
					require.Equal(t, me.recvd, p[k], "%s: byte %d of the read: lost, duplicated or out of order", step, k)
					me.recvd++
				}
				me.inbox -= got
			case 3: // WaitForData(0)
				err := s[i].WaitForData(0)
				want := me.wantEntry()
				switch {
				case want != 0:
				case me.inbox > 0:
				case peer.destroyed():
					want = ipcerr.VERR_BROKEN_PIPE
				default:
					want = ipcerr.VERR_TIMEOUT
				}
				require.Equal(t, want, localipc.Status(err), "%s: WaitForData(0): %v", step, err)
			case 4: // Cancel
				err := s[i].Cancel()
				want := ipcerr.VINF_SUCCESS
				if me.destroyed() {
					want = ipcerr.VERR_INVALID_HANDLE
				} else {
					me.cancelled = true
				}
				require.Equal(t, want, localipc.Status(err), "%s: Cancel: %v", step, err)
			case 5: // Close
				err := s[i].Close()
				want := ipcerr.VINF_SUCCESS
				if me.destroyed() || me.closeCalled {
					want = ipcerr.VERR_INVALID_HANDLE
				} else {
					me.closeCalled, me.cancelled = true, true
					me.refs--
				}
				require.Equal(t, want, localipc.Status(err), "%s: Close: %v", step, err)
				me.dropInbox()
			case 6: // Retain
				want := uint32(math.MaxUint32)
				if !me.destroyed() && me.refs < 100 {
					me.refs++
					want = uint32(me.refs)
				} else if !me.destroyed() {
					continue
				}
				require.Equal(t, want, s[i].Retain(), "%s: Retain", step)
			case 7: // Release
				want := uint32(math.MaxUint32)
				if !me.destroyed() {
					me.refs--
					want = uint32(me.refs)
				}
				require.Equal(t, want, s[i].Release(), "%s: Release", step)
				me.dropInbox()
			case 8: // Flush: not affected by Cancel
				want := ipcerr.VINF_SUCCESS
				if me.destroyed() {
					want = ipcerr.VERR_INVALID_HANDLE
				}
				require.Equal(t, want, localipc.Status(s[i].Flush()), "%s: Flush", step)
			}
		}
	})
}

// dropInbox updates the model when me may just have lost its last
// reference: what me had not read is gone, and the peer's reads and waits
// end with VERR_BROKEN_PIPE once its own inbox is empty (the end of the
// stream, or ECONNRESET once if me had unread bytes: both VERR_BROKEN_PIPE).
func (m *sideModel) dropInbox() {
	if m.destroyed() {
		m.inbox = 0
	}
}
