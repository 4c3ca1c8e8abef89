package localipc

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The IPRT words are written as numbers, as include/iprt/localipc.h has them,
// so that a wrong constant in flags.go cannot agree with itself.

type iprtWord struct {
	raw   uint32
	flags Flags
}

// The two sets, each with every word its mask allows and what it means.
var iprtFlagSets = []struct {
	set    string
	server bool // Listen's set; else Dial's
	from   func(uint32) (Flags, error)
	to     func(Flags) (uint32, error)
	words  []iprtWord
}{
	{"server", true, ServerFlagsFromIPRT, Flags.IPRTServerFlags, []iprtWord{
		{0x0, 0},
		{0x1, NativeName},
		{0x2, RestrictToUser},
		{0x3, NativeName | RestrictToUser},
	}},
	{"client", false, ClientFlagsFromIPRT, Flags.IPRTClientFlags, []iprtWord{
		{0x0, 0},
		{0x1, NativeName},
		{0x2, AllowIdentification},
		{0x3, NativeName | AllowIdentification},
		{0x4, RestrictToUser},
		{0x5, NativeName | RestrictToUser},
		{0x6, AllowIdentification | RestrictToUser},
		{0x7, NativeName | AllowIdentification | RestrictToUser},
	}},
}

func TestIPRTFlagWordsBothWays(t *testing.T) {
	for _, set := range iprtFlagSets {
		for _, tc := range set.words {
			t.Run(fmt.Sprintf("%s %#x", set.set, tc.raw), func(t *testing.T) {
				got, err := set.from(tc.raw)
				require.NoError(t, err)
				assert.Equal(t, tc.flags, got)
				raw, err := set.to(tc.flags)
				require.NoError(t, err)
				assert.Equal(t, tc.raw, raw)
				// What the call is given, it accepts.
				_, err = resolveName("@x", got|NativeName, set.server)
				assert.NoError(t, err)
			})
		}
	}
}

// The reason for the conversion: the same raw number means different things
// in the two sets, and neither is the Flags value of the same number.
func TestIPRTClientWordIsNotACast(t *testing.T) {
	got, err := ClientFlagsFromIPRT(0x2) // RTLOCALIPC_C_FLAGS_ALLOW_IDENTIFICATION
	require.NoError(t, err)
	assert.Equal(t, AllowIdentification, got)
	assert.NotEqual(t, Flags(0x2), got)

	got, err = ServerFlagsFromIPRT(0x2) // RTLOCALIPC_FLAGS_RESTRICT_TO_USER
	require.NoError(t, err)
	assert.Equal(t, RestrictToUser, got)

	raw, err := RestrictToUser.IPRTClientFlags()
	require.NoError(t, err)
	assert.Equal(t, uint32(0x4), raw) // RTLOCALIPC_C_FLAGS_RESTRICT_TO_USER
}

// Every bit outside the valid mask, alone and beside valid ones, is
// ErrInvalidFlags (VERR_INVALID_FLAGS), as IPRT's VALID_MASK checks make it.
func TestIPRTFlagWordsInvalidBits(t *testing.T) {
	for _, tc := range []struct {
		set  string
		mask uint32
		conv func(uint32) (Flags, error)
	}{
		{"server", 0x3, ServerFlagsFromIPRT},
		{"client", 0x7, ClientFlagsFromIPRT},
	} {
		for bit := 0; bit < 32; bit++ {
			b := uint32(1) << bit
			if b&tc.mask != 0 {
				continue
			}
			for _, raw := range []uint32{b, b | tc.mask, b | 0x1} {
				got, err := tc.conv(raw)
				assert.ErrorIs(t, err, ErrInvalidFlags, "%s %#x", tc.set, raw)
				assert.Equal(t, -13, Status(err), "%s %#x", tc.set, raw)
				assert.Zero(t, got, "%s %#x", tc.set, raw)
			}
		}
		// The testcase's 1234 (0x4d2) and the all-ones word.
		for _, raw := range []uint32{1234, ^uint32(0)} {
			_, err := tc.conv(raw)
			assert.ErrorIs(t, err, ErrInvalidFlags, "%s %#x", tc.set, raw)
		}
	}
}

// A Flags bit that the IPRT word has no place for is ErrInvalidFlags too:
// AllowIdentification for a server, and any bit that is not one of the three.
func TestFlagsToIPRTInvalidBits(t *testing.T) {
	for bit := 0; bit < 32; bit++ {
		f := Flags(1) << bit
		_, serverErr := f.IPRTServerFlags()
		_, clientErr := f.IPRTClientFlags()
		switch f {
		case NativeName, RestrictToUser:
			assert.NoError(t, serverErr, "%#x", uint32(f))
			assert.NoError(t, clientErr, "%#x", uint32(f))
		case AllowIdentification:
			assert.ErrorIs(t, serverErr, ErrInvalidFlags, "%#x", uint32(f))
			assert.NoError(t, clientErr, "%#x", uint32(f))
		default:
			for _, err := range []error{serverErr, clientErr} {
				assert.ErrorIs(t, err, ErrInvalidFlags, "%#x", uint32(f))
				assert.Equal(t, -13, Status(err), "%#x", uint32(f))
			}
		}
	}
	for _, f := range []Flags{AllowIdentification | NativeName, NativeName | RestrictToUser | AllowIdentification, ^Flags(0)} {
		raw, err := f.IPRTServerFlags()
		assert.ErrorIs(t, err, ErrInvalidFlags, "%#x", uint32(f))
		assert.Zero(t, raw)
	}
	raw, err := (NativeName | 1<<3).IPRTClientFlags()
	assert.ErrorIs(t, err, ErrInvalidFlags)
	assert.Zero(t, raw)
}
