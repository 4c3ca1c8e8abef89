package workload

import (
	"fmt"
	"math"
)

// Human writes a figure short and readable: 1.23M, 45.6k, 789, 1.23, 0.123;
// a NaN (no figure) as a dash. It is the one part of the package without a
// build tag: bench/cmd/ratios formats figures with it on every system, where
// the workloads themselves run on Linux and Windows.
func Human(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}
