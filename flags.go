package localipc

import "time"

// Flags select how Listen and Dial treat a name. One type serves both: IPRT's
// server (RTLOCALIPC_FLAGS_*) and client (RTLOCALIPC_C_FLAGS_*) flags differ
// only in which bits each accepts, and a bit the call does not accept is
// ErrInvalidFlags.
type Flags uint32

const (
	NativeName          Flags = 1 << 0 // RTLOCALIPC_FLAGS_NATIVE_NAME / _C_FLAGS_NATIVE_NAME
	RestrictToUser      Flags = 1 << 1 // RTLOCALIPC_FLAGS_RESTRICT_TO_USER / _C_FLAGS_RESTRICT_TO_USER
	AllowIdentification Flags = 1 << 2 // RTLOCALIPC_C_FLAGS_ALLOW_IDENTIFICATION (Dial only)
)

// Infinite as a timeout waits for ever.
const Infinite time.Duration = -1 // RT_INDEFINITE_WAIT

const (
	serverFlags = NativeName | RestrictToUser                       // RTLOCALIPC_FLAGS_VALID_MASK
	dialFlags   = NativeName | RestrictToUser | AllowIdentification // RTLOCALIPC_C_FLAGS_VALID_MASK
)
