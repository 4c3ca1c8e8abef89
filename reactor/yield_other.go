//go:build !linux

package reactor

// osYield does nothing where it is not measured: WaitBusy's polls yield to
// goroutines only, WaitAdaptive's not at all.
func osYield() {}
