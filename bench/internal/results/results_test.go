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
