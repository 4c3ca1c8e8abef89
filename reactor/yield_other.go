//go:build !linux

package reactor

// osYield does nothing where it is not measured: busy polling yields to
// goroutines only.
func osYield() {}
