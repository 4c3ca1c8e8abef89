package reactor

import (
	"testing"
	"time"
)

// Windows has no poller yet, so TestPollerContract skips before it needs a
// pair of handles; the IOCP port replaces these with a named-pipe pair.

type contractEnd struct{}

func contractPair(t *testing.T) (uintptr, contractEnd) {
	t.Skip("no handle pair before the named-pipe port")
	return 0, contractEnd{}
}

func (contractEnd) write(t *testing.T, p []byte) {}
func (contractEnd) close(t *testing.T)           {}

func drain(t *testing.T, h uintptr) []byte { return nil }

func readableWithin(t *testing.T, fd uintptr, d time.Duration) bool { return false }

func openHandles(t *testing.T) int { return 0 }
