//go:build !linux

package reactor

// osYield does nothing where it is not measured: WaitBusy's polls yield to
// goroutines only, WaitAdaptive's not at all.
func osYield() {}

// yieldsCPU says whether osYield gives the CPU away: here it does not, so a
// loop has no yield to time (noteSharing).
const yieldsCPU = false
