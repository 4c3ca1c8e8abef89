package results

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
pkg: github.com/localipc/localipc/bench
BenchmarkW1PingPong/contender=net-2         	       1	         0 ns/op	        19.19 p50-µs	        52.18 p99-µs	     49224 roundtrips/s
BenchmarkW3Fanout/N=100/contender=net-2     	       1	         0 ns/op	    150000 msgs/s
BenchmarkW3Fanout/N=100/contender=net-2     	       1	         0 ns/op	    170000 msgs/s
some log line
BenchmarkW3Fanout/N=100/contender=net-2     	       1	         0 ns/op	    160000 msgs/s
BenchmarkW3Fanout/N=100/contender=raw-2     	       1	         0 ns/op	    200000 msgs/s
--- FAIL: BenchmarkW5Churn/contender=gnet-2
PASS
`

func TestParse(t *testing.T) {
	s, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	assert.Equal(t, []string{"W1PingPong/contender=net", "W3Fanout/N=100/contender=net", "W3Fanout/N=100/contender=raw"}, s.Names)
	assert.Equal(t, []float64{150000, 170000, 160000}, s.Values["W3Fanout/N=100/contender=net"]["msgs/s"])
	assert.Equal(t, 3, s.Runs("W3Fanout/N=100/contender=net", "msgs/s"))
	m, ok := s.Median("W3Fanout/N=100/contender=net", "msgs/s")
	assert.True(t, ok)
	assert.Equal(t, 160000.0, m)
	_, ok = s.Median("W3Fanout/N=100/contender=gnet", "msgs/s")
	assert.False(t, ok)
	p99, _ := s.Median("W1PingPong/contender=net", "p99-µs")
	assert.Equal(t, 52.18, p99)
}

func TestMedian(t *testing.T) {
	assert.Equal(t, 2.0, Median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, Median([]float64{4, 1, 2, 3}))
	assert.True(t, math.IsNaN(Median(nil)))
}

func TestMedianSkipsTheRunsLeftOut(t *testing.T) {
	assert.Equal(t, 2.0, Median([]float64{3, math.NaN(), 1, 2}))
	assert.True(t, math.IsNaN(Median([]float64{math.NaN()})))
}

func TestDropSteal(t *testing.T) {
	const runs = `
BenchmarkW5Churn/contender=net-2   1 100 sessions/s 0.5 steal-%
BenchmarkW5Churn/contender=net-2   1  60 sessions/s 31.8 steal-%
BenchmarkW5Churn/contender=net-2   1 110 sessions/s 5 steal-%
BenchmarkW5Churn/contender=gnet-2  1  90 sessions/s
BenchmarkW5Churn/contender=gnet-2  1  95 sessions/s
`
	for _, c := range []struct {
		max           float64
		dropped, kept int
		netMedian     float64
	}{
		{max: 100, dropped: 0, kept: 3, netMedian: 100},
		{max: 5, dropped: 1, kept: 2, netMedian: 105}, // 5 % itself is kept
		{max: 1, dropped: 2, kept: 1, netMedian: 100},
		{max: 0, dropped: 3, kept: 0, netMedian: math.NaN()},
	} {
		s, err := Parse(strings.NewReader(runs))
		require.NoError(t, err)
		dropped, measured := s.DropSteal(c.max)
		assert.Equal(t, c.dropped, dropped, "max %g", c.max)
		assert.Equal(t, 3, measured, "gnet's runs have no steal figure")
		net := "W5Churn/contender=net"
		assert.Equal(t, c.kept, s.Runs(net, "sessions/s"), "max %g", c.max)
		assert.Len(t, s.Values[net]["sessions/s"], 3, "the runs keep their places")
		m, ok := s.Median(net, "sessions/s")
		if math.IsNaN(c.netMedian) {
			assert.False(t, ok, "max %g: nothing left", c.max)
		} else {
			assert.True(t, ok)
			assert.Equal(t, c.netMedian, m, "max %g", c.max)
		}
		assert.Equal(t, []float64{90, 95}, s.Values["W5Churn/contender=gnet"]["sessions/s"], "no steal figure: kept")
	}
}
