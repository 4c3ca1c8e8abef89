package reactor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// kqueueABIs are the numbers of each system's kqueue as x/sys v0.50.0 has
// them, written out so that this test runs on Linux; kevent_bsd_test.go
// checks them against x/sys on each system itself. The self-pipe's read end
// is a descriptor known only at run time: pipeFD stands for it here.
const pipeFD = 7

var kqueueABIs = map[string]kqueueABI{
	"darwin":    {filtRead: -1, filtWrite: -2, evEOF: 0x8000, evError: 0x4000, wakeFilter: -10, wakeIdent: wakeUserIdent},
	"freebsd":   {filtRead: -1, filtWrite: -2, evEOF: 0x8000, evError: 0x4000, wakeFilter: -11, wakeIdent: wakeUserIdent},
	"dragonfly": {filtRead: -1, filtWrite: -2, evEOF: 0x8000, evError: 0x4000, wakeFilter: -9, wakeIdent: wakeUserIdent},
	"openbsd":   {filtRead: -1, filtWrite: -2, evEOF: 0x8000, evError: 0x4000, wakeFilter: -1, wakeIdent: pipeFD},
	"netbsd":    {filtRead: 0, filtWrite: 1, evEOF: 0x8000, evError: 0x4000, wakeFilter: 0, wakeIdent: pipeFD},
}

func TestKeventEvents(t *testing.T) {
	const fd = 9
	for goos, abi := range kqueueABIs {
		t.Run(goos, func(t *testing.T) {
			r, w := abi.filtRead, abi.filtWrite
			eof, fail := abi.evEOF, abi.evError
			cases := []struct {
				name string
				k    kevent
				want Events
			}{
				{"data to read", kevent{ident: fd, filter: r}, Readable},
				{"room to write", kevent{ident: fd, filter: w}, Writable},
				{"the peer closed or shut down writing", kevent{ident: fd, filter: r, flags: eof}, HangUp | Readable},
				{"end of stream with a socket error", kevent{ident: fd, filter: r, flags: eof, fflags: 54}, HangUp | Readable | Error},
				{"the peer reads no more", kevent{ident: fd, filter: w, flags: eof}, Writable},
				{"the peer reads no more, with an error", kevent{ident: fd, filter: w, flags: eof, fflags: 32}, Writable | Error},
				{"EV_ERROR on the read filter", kevent{ident: fd, filter: r, flags: fail}, Error | Readable | Writable},
				{"EV_ERROR on the write filter", kevent{ident: fd, filter: w, flags: fail | eof}, Error | Readable | Writable},
				{"EV_CLEAR and EV_ADD echoed back change nothing", kevent{ident: fd, filter: r, flags: 0x20 | 0x1}, Readable},
			}
			for _, c := range cases {
				ev, wake, ok := abi.event(c.k)
				assert.True(t, ok, c.name)
				assert.False(t, wake, c.name)
				assert.Equal(t, uintptr(fd), ev.h, "%s: the event names its handle", c.name)
				assert.Equal(t, token{}, ev.tok, "%s: the loop resolves the token", c.name)
				assert.Equal(t, c.want, ev.ev, "%s: got %v", c.name, ev.ev)
			}
		})
	}
}

func TestKeventWake(t *testing.T) {
	for goos, abi := range kqueueABIs {
		t.Run(goos, func(t *testing.T) {
			ev, wake, ok := abi.event(kevent{ident: abi.wakeIdent, filter: abi.wakeFilter})
			assert.True(t, ok)
			assert.True(t, wake)
			assert.Equal(t, event{tok: wakeToken}, ev)

			// The wake-up's filter on another identifier: with a self-pipe,
			// a registered fd's data; with EVFILT_USER, nothing we added.
			ev, wake, ok = abi.event(kevent{ident: abi.wakeIdent + 1, filter: abi.wakeFilter})
			assert.False(t, wake)
			if abi.wakeFilter == abi.filtRead {
				assert.True(t, ok)
				assert.Equal(t, Readable, ev.ev)
			} else {
				assert.False(t, ok, "an EVFILT_USER event that is not the wake-up")
			}

			// A registered fd whose number equals the wake-up identifier,
			// on the other filters, is that fd's.
			ev, wake, ok = abi.event(kevent{ident: abi.wakeIdent, filter: abi.filtWrite})
			assert.True(t, ok)
			assert.False(t, wake)
			assert.Equal(t, Writable, ev.ev)
		})
	}
}

func TestKeventUnknownFilter(t *testing.T) {
	for goos, abi := range kqueueABIs {
		for _, f := range []int{-4, -5, 3, 4} { // vnode, proc; NetBSD's vnode, proc
			if f == abi.filtRead || f == abi.filtWrite || f == abi.wakeFilter {
				continue
			}
			_, wake, ok := abi.event(kevent{ident: 3, filter: f})
			assert.False(t, ok, fmt.Sprintf("%s filter %d", goos, f))
			assert.False(t, wake)
		}
	}
}
