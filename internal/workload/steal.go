//go:build linux || windows

package workload

// CPUTimes is the machine's CPU time so far, all CPUs together, in clock
// ticks: the time the hypervisor gave to other guests (steal) and all of it.
// On a shared VM a pass that lost a tenth of its CPU to steal says more
// about the neighbours than about the code, so the harness reports the
// share next to each workload's figures.
type CPUTimes struct{ Steal, Total uint64 }

// StealPercent is the share of the CPU time between t and later that went
// to steal, in percent; 0 if no time passed.
func (t CPUTimes) StealPercent(later CPUTimes) float64 {
	total := later.Total - t.Total
	if total == 0 || later.Total < t.Total {
		return 0
	}
	return 100 * float64(later.Steal-t.Steal) / float64(total)
}
