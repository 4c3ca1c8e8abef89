package reactor

import "golang.org/x/sys/unix"

// osYield gives the CPU to another thread that is ready to run on it, if
// any: a busy-polling loop whose peer shares its CPU then lets the peer
// answer instead of spinning it out. Alone on its CPU it returns at once.
func osYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// yieldsCPU says whether osYield gives the CPU away, so that a loop can time
// it to learn whether its peer shares its CPU (noteSharing).
const yieldsCPU = true
