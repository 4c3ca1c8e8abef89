package reactor

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCompletionKeyPacking(t *testing.T) {
	cases := []struct {
		name string
		bits int
		tok  token
		key  uint64
		ok   bool
		back token // what unpackKey gives
	}{
		{"64: first slot", 64, token{0, 1}, 1, true, token{0, 1}},
		{"64: slot and gen", 64, token{3, 7}, 3<<32 | 7, true, token{3, 7}},
		{"64: largest slot, largest gen", 64, token{1<<32 - 2, 1<<32 - 1}, (1<<32-2)<<32 | (1<<32 - 1), true, token{1<<32 - 2, 1<<32 - 1}},
		{"64: the wake slot is no registration's", 64, token{1<<32 - 1, 5}, 0, false, token{}},
		{"64: wake", 64, wakeToken, 0xFFFFFFFF00000000, true, wakeToken},
		{"32: first slot", 32, token{0, 1}, 1, true, token{0, 1}},
		{"32: slot and gen", 32, token{3, 7}, 3<<12 | 7, true, token{3, 7}},
		{"32: gen keeps its low 12 bits", 32, token{5, 0x1234}, 5<<12 | 0x234, true, token{5, 0x234}},
		{"32: gen 4096 packs to 0, not to the wake key", 32, token{9, 4096}, 9 << 12, true, token{9, 0}},
		{"32: largest slot", 32, token{1<<20 - 2, 1}, (1<<20-2)<<12 | 1, true, token{1<<20 - 2, 1}},
		{"32: the wake slot is no registration's", 32, token{1<<20 - 1, 1}, 0, false, token{}},
		{"32: slot too large", 32, token{1 << 20, 1}, 0, false, token{}},
		{"32: wake", 32, wakeToken, 0xFFFFF000, true, wakeToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, ok := packKey(c.tok, c.bits)
			assert.Equal(t, c.ok, ok)
			if !ok {
				return
			}
			assert.Equal(t, c.key, key, "key %#x", key)
			if c.bits == 32 {
				assert.Less(t, key, uint64(1)<<32, "a 32-bit key")
			}
			assert.Equal(t, c.back, unpackKey(key, c.bits))
			if c.tok != wakeToken {
				assert.NotEqual(t, wakeKey(c.bits), key, "a registration with the wake-up key")
			}
		})
	}
}
