package reactor

// A completion port carries one pointer-sized key per handle, so the
// completion-port poller (iocp_windows.go) packs a registration's token into
// it. The packing is pure arithmetic over uint64 with the key's width as a
// parameter, so that both widths are tested on every platform.
//
//   - 64 bits: slot<<32 | gen, the whole token.
//   - 32 bits (windows/386): a 20-bit slot and the low 12 bits of the
//     generation. A loop with a million registrations does not fit and add
//     fails; the generation is truncated, which is harmless because the
//     poller names a completion by its own op record (which holds the full
//     token), and uses the key only to tell its wake-up packets apart.
//
// The all-ones slot field is reserved on both widths for wakeToken, whose
// generation 0 no registration ever has.

const (
	keySlotBits32 = 20
	keyGenBits32  = 32 - keySlotBits32
	keySlotMax32  = 1<<keySlotBits32 - 1 // reserved: the wake-up key's slot
)

// packKey returns tok's completion key for a key of the given width (32 or
// 64), and false if tok's slot does not fit in it.
func packKey(tok token, bits int) (uint64, bool) {
	if tok == wakeToken {
		return wakeKey(bits), true
	}
	if bits == 64 {
		if tok.slot == wakeToken.slot {
			return 0, false
		}
		return uint64(tok.slot)<<32 | uint64(tok.gen), true
	}
	if tok.slot >= keySlotMax32 {
		return 0, false
	}
	return uint64(tok.slot)<<keyGenBits32 | uint64(tok.gen&(1<<keyGenBits32-1)), true
}

// unpackKey is packKey's inverse, up to the generation bits a 32-bit key
// drops; the wake-up key gives wakeToken.
func unpackKey(key uint64, bits int) token {
	if key == wakeKey(bits) {
		return wakeToken
	}
	if bits == 64 {
		return token{slot: uint32(key >> 32), gen: uint32(key)}
	}
	return token{slot: uint32(key>>keyGenBits32) & keySlotMax32, gen: uint32(key) & (1<<keyGenBits32 - 1)}
}

// wakeKey is the key of the poller's own wake-up packets: the reserved
// all-ones slot with generation 0.
func wakeKey(bits int) uint64 {
	if bits == 64 {
		return uint64(wakeToken.slot) << 32
	}
	return keySlotMax32 << keyGenBits32
}
