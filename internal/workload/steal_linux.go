//go:build linux

package workload

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// ReadCPUTimes reads the machine's CPU times from /proc/stat.
func ReadCPUTimes() (CPUTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}, err
	}
	return parseCPUTimes(string(b))
}

// parseCPUTimes reads the first line of /proc/stat: "cpu", then user, nice,
// system, idle, iowait, irq, softirq and steal (the guest columns that may
// follow are counted in user and nice already).
func parseCPUTimes(stat string) (CPUTimes, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return CPUTimes{}, errors.New("workload: /proc/stat has no cpu line with a steal column")
	}
	var t CPUTimes
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return CPUTimes{}, err
		}
		t.Total += v
		if i == 7 {
			t.Steal = v
		}
	}
	return t, nil
}
