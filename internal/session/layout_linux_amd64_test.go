package session

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// A blocking session is one allocation (New), and a Read and a Write touch
// only its first cache line: from 289 to 320 bytes it is in the size class
// of 320, whose objects start on a line boundary; one byte more would put it
// in the class of 352, whose objects do not.
func TestBlockingSessionFitsItsSizeClassAndOneLine(t *testing.T) {
	var b blocking
	assert.Greater(t, unsafe.Sizeof(b), uintptr(288), "the blocking state's size, the session in it")
	assert.LessOrEqual(t, unsafe.Sizeof(b), uintptr(320), "the blocking state's size, the session in it")
	s := unsafe.Offsetof(b.s)
	for name, end := range map[string]uintptr{
		"readMu":        unsafe.Offsetof(b.readMu) + unsafe.Sizeof(b.readMu),
		"writeMu":       unsafe.Offsetof(b.writeMu) + unsafe.Sizeof(b.writeMu),
		"f":             unsafe.Offsetof(b.f) + unsafe.Sizeof(b.f),
		"writeDeadline": unsafe.Offsetof(b.writeDeadline) + unsafe.Sizeof(b.writeDeadline),
		"fd":            unsafe.Offsetof(b.fd) + unsafe.Sizeof(b.fd),
		"closed":        unsafe.Offsetof(b.closed) + unsafe.Sizeof(b.closed),
		"stashTo":       unsafe.Offsetof(b.stashTo) + unsafe.Sizeof(b.stashTo),
		"s.blocking":    s + unsafe.Offsetof(b.s.blocking) + unsafe.Sizeof(b.s.blocking),
		"s.cancelled":   s + unsafe.Offsetof(b.s.cancelled) + unsafe.Sizeof(b.s.cancelled),
		"s.destroyed":   s + unsafe.Offsetof(b.s.destroyed) + unsafe.Sizeof(b.s.destroyed),
	} {
		assert.LessOrEqual(t, end, uintptr(64), name)
	}
}
