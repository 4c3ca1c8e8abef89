package localipc

import (
	"fmt"
	"time"
)

// Flags select how Listen and Dial treat a name. One type serves both calls,
// with the same meaning for each bit, but its values are Go's own, not IPRT's:
// IPRT's server flags (RTLOCALIPC_FLAGS_*) and client flags
// (RTLOCALIPC_C_FLAGS_*) number their bits differently (RestrictToUser is 0x2
// in the one and 0x4 in the other, where the client's 0x2 is
// AllowIdentification). A raw flag word from IPRT code or configuration is
// therefore converted with ServerFlagsFromIPRT or ClientFlagsFromIPRT, and back
// with IPRTServerFlags or IPRTClientFlags, never cast. Listen accepts
// NativeName and RestrictToUser, Dial all three; a bit the call does not
// accept is ErrInvalidFlags.
type Flags uint32

const (
	NativeName          Flags = 1 << 0 // RTLOCALIPC_FLAGS_NATIVE_NAME (0x1) / _C_FLAGS_NATIVE_NAME (0x1)
	RestrictToUser      Flags = 1 << 1 // RTLOCALIPC_FLAGS_RESTRICT_TO_USER (0x2) / _C_FLAGS_RESTRICT_TO_USER (0x4 in IPRT)
	AllowIdentification Flags = 1 << 2 // RTLOCALIPC_C_FLAGS_ALLOW_IDENTIFICATION (0x2 in IPRT; Dial only)
)

// Infinite as a timeout waits for ever.
const Infinite time.Duration = -1 // RT_INDEFINITE_WAIT

const (
	serverFlags = NativeName | RestrictToUser                       // what RTLOCALIPC_FLAGS_VALID_MASK allows
	dialFlags   = NativeName | RestrictToUser | AllowIdentification // what RTLOCALIPC_C_FLAGS_VALID_MASK allows
)

// IPRT's flag words, as include/iprt/localipc.h numbers them.
const (
	iprtFlagsNativeName     uint32 = 0x1 // RTLOCALIPC_FLAGS_NATIVE_NAME
	iprtFlagsRestrictToUser uint32 = 0x2 // RTLOCALIPC_FLAGS_RESTRICT_TO_USER
	iprtFlagsValidMask      uint32 = 0x3 // RTLOCALIPC_FLAGS_VALID_MASK

	iprtClientNativeName          uint32 = 0x1 // RTLOCALIPC_C_FLAGS_NATIVE_NAME
	iprtClientAllowIdentification uint32 = 0x2 // RTLOCALIPC_C_FLAGS_ALLOW_IDENTIFICATION
	iprtClientRestrictToUser      uint32 = 0x4 // RTLOCALIPC_C_FLAGS_RESTRICT_TO_USER
	iprtClientValidMask           uint32 = 0x7 // RTLOCALIPC_C_FLAGS_VALID_MASK
)

// flagBit pairs one IPRT bit with the Flags bit it means.
type flagBit struct {
	iprt uint32
	flag Flags
}

var (
	iprtServerBits = []flagBit{
		{iprtFlagsNativeName, NativeName},
		{iprtFlagsRestrictToUser, RestrictToUser},
	}
	iprtClientBits = []flagBit{
		{iprtClientNativeName, NativeName},
		{iprtClientAllowIdentification, AllowIdentification},
		{iprtClientRestrictToUser, RestrictToUser},
	}
)

// ServerFlagsFromIPRT converts the fFlags word of RTLocalIpcServerCreate
// (RTLOCALIPC_FLAGS_NATIVE_NAME 0x1, RTLOCALIPC_FLAGS_RESTRICT_TO_USER 0x2)
// into the Flags for Listen. A bit outside RTLOCALIPC_FLAGS_VALID_MASK (0x3)
// is ErrInvalidFlags, as IPRT's own check makes it VERR_INVALID_FLAGS.
func ServerFlagsFromIPRT(raw uint32) (Flags, error) {
	return fromIPRT(raw, iprtFlagsValidMask, iprtServerBits, "RTLOCALIPC_FLAGS_VALID_MASK")
}

// ClientFlagsFromIPRT converts the fFlags word of RTLocalIpcSessionConnect
// (RTLOCALIPC_C_FLAGS_NATIVE_NAME 0x1, _ALLOW_IDENTIFICATION 0x2,
// _RESTRICT_TO_USER 0x4) into the Flags for Dial. A bit outside
// RTLOCALIPC_C_FLAGS_VALID_MASK (0x7) is ErrInvalidFlags, as in IPRT.
func ClientFlagsFromIPRT(raw uint32) (Flags, error) {
	return fromIPRT(raw, iprtClientValidMask, iprtClientBits, "RTLOCALIPC_C_FLAGS_VALID_MASK")
}

// IPRTServerFlags returns the RTLOCALIPC_FLAGS_* word that means f, for
// RTLocalIpcServerCreate. A bit that word has no place for, AllowIdentification
// among them, is ErrInvalidFlags, as Listen would make it.
func (f Flags) IPRTServerFlags() (uint32, error) {
	return f.toIPRT(serverFlags, iprtServerBits, "server")
}

// IPRTClientFlags returns the RTLOCALIPC_C_FLAGS_* word that means f, for
// RTLocalIpcSessionConnect. A bit that is not one of the three Flags is
// ErrInvalidFlags, as Dial would make it.
func (f Flags) IPRTClientFlags() (uint32, error) {
	return f.toIPRT(dialFlags, iprtClientBits, "client")
}

func fromIPRT(raw, mask uint32, table []flagBit, maskName string) (Flags, error) {
	if raw&^mask != 0 {
		return 0, fmt.Errorf("%w: IPRT flags %#x have bits outside %s (%#x)", ErrInvalidFlags, raw, maskName, mask)
	}
	var f Flags
	for _, b := range table {
		if raw&b.iprt != 0 {
			f |= b.flag
		}
	}
	return f, nil
}

func (f Flags) toIPRT(valid Flags, table []flagBit, set string) (uint32, error) {
	if f&^valid != 0 {
		return 0, fmt.Errorf("%w %#x: IPRT's %s flags have no bit for %#x", ErrInvalidFlags, uint32(f), set, uint32(f&^valid))
	}
	var raw uint32
	for _, b := range table {
		if f&b.flag != 0 {
			raw |= b.iprt
		}
	}
	return raw, nil
}
