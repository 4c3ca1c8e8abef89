package reactor

import (
	"runtime"
	"strconv"
)

// goid returns the current goroutine's id, read from the header line of its
// stack trace ("goroutine 18 [running]:"), the one place the runtime shows
// it. It costs about a microsecond, so callers use it only on slow paths:
// deciding whether a write that would block is running on a loop.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = len("goroutine ")
	if len(b) <= prefix {
		return 0
	}
	b = b[prefix:]
	end := 0
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	id, _ := strconv.ParseUint(string(b[:end]), 10, 64)
	return id
}
