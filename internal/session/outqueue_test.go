package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The output queue's rules, which every port relies on: the bytes keep
// their order, the buffer is compacted and recycled only when no send owns
// it.
func TestOutQueue(t *testing.T) {
	cases := []struct {
		name     string
		inFlight bool
		wantHead int // after pushing behind a queue whose first 6 of 8 bytes went
	}{
		{"compacts when more than half went", false, 0},
		{"never moves what a send owns", true, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o outState
			o.push([]byte("abcdefgh"))
			o.consume(6)
			o.inFlight = tc.inFlight
			before := &o.buf[:1][0]
			o.push([]byte("ij"))
			assert.Equal(t, []byte("ghij"), o.pending(), "order kept")
			assert.Equal(t, tc.wantHead, o.head)
			if tc.inFlight {
				assert.Same(t, before, &o.buf[:1][0], "the buffer under a send moved")
			}
			o.inFlight = false
			o.consume(len(o.pending()))
			assert.Nil(t, o.buf, "an empty queue holds no buffer")
			assert.Zero(t, o.head)
		})
	}
}

func TestOutQueueKeepsABufferUnderASend(t *testing.T) {
	var o outState
	o.push([]byte("abc"))
	o.inFlight = true
	o.consume(3)
	assert.NotNil(t, o.buf, "recycled while the kernel owns it")
	o.drop()
	assert.Nil(t, o.buf)
	assert.Zero(t, o.head)
}
