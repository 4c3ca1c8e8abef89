package session

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// A blocking session is one allocation (New), and a Read and a Write touch
// only its first two cache lines: at 320 bytes it is in a size class whose
// objects start on a line boundary; one byte more would put it in the class
// of 352, whose objects do not.
func TestBlockingSessionFitsItsSizeClassAndTwoLines(t *testing.T) {
	var both struct {
		Session
		b blocking
	}
	assert.EqualValues(t, 320, unsafe.Sizeof(both), "the pair's size")
	for name, off := range map[string]uintptr{
		"readMu":        unsafe.Offsetof(both.b.readMu),
		"writeMu":       unsafe.Offsetof(both.b.writeMu),
		"stashed":       unsafe.Offsetof(both.b.stashed),
		"fd":            unsafe.Offsetof(both.b.fd),
		"closed":        unsafe.Offsetof(both.b.closed),
		"writeDeadline": unsafe.Offsetof(both.b.writeDeadline),
		"f":             unsafe.Offsetof(both.b.f),
	} {
		assert.Less(t, unsafe.Offsetof(both.b)+off, uintptr(128), name)
	}
}
