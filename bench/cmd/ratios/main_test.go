package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/localipc/localipc/bench/internal/results"
)

const sample = `
BenchmarkW1PingPong/contender=localipc-blocking-2 1 0 ns/op 43660 roundtrips/s 58 p99-µs
BenchmarkW1PingPong/contender=net-2               1 0 ns/op 43810 roundtrips/s 56 p99-µs
BenchmarkW3Fanout/N=1000/contender=localipc-callback-2 1 0 ns/op 180000 msgs/s
BenchmarkW3Fanout/N=1000/contender=raw-2               1 0 ns/op 190000 msgs/s
BenchmarkW3Fanout/N=1000/contender=net-2               1 0 ns/op 90000 msgs/s
BenchmarkW3Fanout/N=1000/contender=gnet-2              1 0 ns/op 200000 msgs/s
BenchmarkW7WaitAndRead/N=1000/contender=localipc-callback-2 1 0 ns/op 95000 msgs/s
BenchmarkW4Idle/N=10000/contender=localipc-callback-2 1 0 ns/op 471 B/session 0 goroutines/session
`

func TestRatiosAndTargets(t *testing.T) {
	set, err := results.Parse(strings.NewReader(sample))
	require.NoError(t, err)
	var buf bytes.Buffer
	writeRatios(&buf, set)
	out := buf.String()
	assert.Contains(t, out, "| W1PingPong | roundtrips/s (higher is better) | localipc-blocking | 43.7k | 1.00 | – | – | – |")
	assert.Contains(t, out, "| W3Fanout/N=1000 | msgs/s (higher is better) | localipc-callback | 180.0k | 2.00 | 0.90 | – | 0.95 |")
	assert.Contains(t, out, "| W7WaitAndRead/N=1000 | msgs/s (higher is better) | localipc-callback | 95.0k | 1.06 † | 0.47 † | – | 0.50 † |", "W7 borrows the peers of W3")

	buf.Reset()
	writeTargets(&buf, set)
	out = buf.String()
	assert.Contains(t, out, "| 0.997× | **MISSED** |", "a hair under net is a miss, and shows as one")
	assert.Contains(t, out, "W3 msgs/s N=1000, callback vs raw | ≥ 0.90× raw | 180.0k localipc-callback / 190.0k raw | 0.947× | **met** |")
	assert.Contains(t, out, "200.0k gnet (the best peer) | 0.900× | **MISSED** |")
	assert.Contains(t, out, "W4 idle memory per session, callback face | ≤ 0.5 KB (500 B) | localipc-callback 471 B/session | 471 | **met** |")
	assert.Contains(t, out, "W2 GB/s, 64KiB writes, localipc-blocking vs net | ≥ 1.00× net | not measured |")
}

func TestPairedRatios(t *testing.T) {
	// two passes: the second under load from elsewhere that halves both
	const runs = `
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 200 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 50 sessions/s
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 90 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 45 sessions/s
`
	set, err := results.Parse(strings.NewReader(runs))
	require.NoError(t, err)
	a, b := "W5Churn/contender=localipc-callback", "W5Churn/contender=net"

	r, ok := ratio(set, a, b, "sessions/s")
	require.True(t, ok)
	assert.InDelta(t, 2.0, r, 1e-9, "ratio of the medians")

	paired = true
	t.Cleanup(func() { paired = false })
	r, ok = ratio(set, a, b, "sessions/s")
	require.True(t, ok)
	assert.InDelta(t, 2.0, r, 1e-9, "median of 2, 2, 2")

	set.Values[b]["sessions/s"][2] = 90 // the last pass: net lucky
	r, _ = ratio(set, a, b, "sessions/s")
	assert.InDelta(t, 2.0, r, 1e-9, "median of 2, 2, 1")
	paired = false
	r, _ = ratio(set, a, b, "sessions/s")
	assert.InDelta(t, 100.0/90, r, 1e-9, "medians 100 / 90")
}

func TestSignTest(t *testing.T) {
	for _, c := range []struct {
		k, n int
		p    float64
	}{
		{8, 16, 1},
		{13, 16, 2 * (1 + 16 + 120 + 560) / 65536.0},
		{3, 16, 2 * (1 + 16 + 120 + 560) / 65536.0},
		{16, 16, 2 / 65536.0},
		{0, 0, 1},
		{1, 2, 1},
	} {
		assert.InDelta(t, c.p, signTest(c.k, c.n), 1e-12, "%d of %d", c.k, c.n)
	}
}

func TestPairedTargetsCountThePassesThatMetThem(t *testing.T) {
	// three passes: the blocking face ahead of net in two, behind in one
	const runs = `
BenchmarkW5Churn/contender=localipc-blocking-2 1 0 ns/op 110 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=localipc-blocking-2 1 0 ns/op 90 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=localipc-blocking-2 1 0 ns/op 105 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
`
	set := parsePaired(t, runs)
	var buf bytes.Buffer
	writeTargets(&buf, set)
	out := buf.String()
	assert.Contains(t, out, "| W5 sessions/s, localipc-blocking vs net | ≥ 1.00× net | 105 localipc-blocking / 100 net | 1.050× | **met** | 2 of 3 | 1.00 |\n")
	assert.Contains(t, out, "| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | not measured | – | | – | – |\n")
}

func TestPairedRatiosSkipThePassesThatLostARun(t *testing.T) {
	// three passes; in the second the callback face's run had 40 % steal
	const runs = `
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 120 sessions/s 1 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 2 steal-%
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op  50 sessions/s 40 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 3 steal-%
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 110 sessions/s 0 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 1 steal-%
`
	set := parsePaired(t, runs)
	var buf bytes.Buffer
	writeTargets(&buf, set)
	assert.Contains(t, buf.String(), "| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | 110 localipc-callback / 100 net | 1.100× | **met** | 2 of 3 | 1.00 |\n")

	dropped, measured := set.DropSteal(5)
	require.Equal(t, [2]int{1, 6}, [2]int{dropped, measured})
	buf.Reset()
	writeTargets(&buf, set)
	assert.Contains(t, buf.String(), "| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | 115 localipc-callback / 100 net | 1.150× | **met** | 2 of 2 | 0.50 |\n", "the second pass has no ratio")

	paired = false
	r, ok := ratio(set, "W5Churn/contender=localipc-callback", "W5Churn/contender=net", "sessions/s")
	require.True(t, ok)
	assert.InDelta(t, 1.15, r, 1e-9, "medians 115 / 100")
}

// parsePaired reads runs as interleaved passes, for the rest of the test.
func parsePaired(t *testing.T, runs string) *results.Set {
	t.Helper()
	set, err := results.Parse(strings.NewReader(runs))
	require.NoError(t, err)
	paired = true
	t.Cleanup(func() { paired = false })
	return set
}
