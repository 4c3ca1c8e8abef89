//go:build linux

package workload

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCPUTimes(t *testing.T) {
	tests := []struct {
		name, stat string
		want       CPUTimes
		err        string
	}{
		{"with guest columns", "cpu  100 2 30 400 5 6 7 50 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n", CPUTimes{Steal: 50, Total: 600}, ""},
		{"without guest columns", "cpu 1 1 1 1 1 1 1 3", CPUTimes{Steal: 3, Total: 10}, ""},
		{"no steal column", "cpu 1 2 3 4 5 6 7\n", CPUTimes{}, "workload: /proc/stat has no cpu line with a steal column"},
		{"a CPU's line first", "cpu0 1 2 3 4 5 6 7 8\n", CPUTimes{}, "workload: /proc/stat has no cpu line with a steal column"},
		{"not a number", "cpu 1 2 3 4 5 6 7 x\n", CPUTimes{}, `strconv.ParseUint: parsing "x": invalid syntax`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCPUTimes(tt.stat)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStealPercent(t *testing.T) {
	tests := []struct {
		name          string
		before, after CPUTimes
		want          float64
	}{
		{"a quarter stolen", CPUTimes{Steal: 10, Total: 1000}, CPUTimes{Steal: 60, Total: 1200}, 25},
		{"none stolen", CPUTimes{Steal: 10, Total: 1000}, CPUTimes{Steal: 10, Total: 1100}, 0},
		{"no time passed", CPUTimes{Steal: 10, Total: 1000}, CPUTimes{Steal: 10, Total: 1000}, 0},
		{"readings swapped", CPUTimes{Steal: 60, Total: 1200}, CPUTimes{Steal: 10, Total: 1000}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, tt.before.StealPercent(tt.after), 1e-9)
		})
	}
}

func TestReadCPUTimesOnThisMachine(t *testing.T) {
	a, err := ReadCPUTimes()
	require.NoError(t, err)
	b, err := ReadCPUTimes()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, b.Total, a.Total)
	assert.GreaterOrEqual(t, b.Steal, a.Steal)
	assert.Positive(t, a.Total)
}
