package main

import (
	"bytes"
	"fmt"
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
	writeRatios(&buf, runs{set, false})
	out := buf.String()
	assert.Contains(t, out, "| W1PingPong | roundtrips/s (higher is better) | localipc-blocking | 43.7k | 1.00 | – | – | – |")
	assert.Contains(t, out, "| W3Fanout/N=1000 | msgs/s (higher is better) | localipc-callback | 180.0k | 2.00 | 0.90 | – | 0.95 |")
	assert.Contains(t, out, "| W7WaitAndRead/N=1000 | msgs/s (higher is better) | localipc-callback | 95.0k | 1.06 † | 0.47 † | – | 0.50 † |", "W7 borrows the peers of W3")

	buf.Reset()
	writeTargets(&buf, runs{set, false})
	out = buf.String()
	assert.Contains(t, out, "| 0.997× | **MISSED** |", "a hair under net is a miss, and shows as one")
	assert.Contains(t, out, "W3 msgs/s N=1000, callback vs raw | ≥ 0.90× raw | 180.0k localipc-callback / 190.0k raw | 0.947× | **met** |")
	assert.Contains(t, out, "200.0k gnet (the best peer) | 0.900× | **MISSED** |")
	assert.Contains(t, out, "W4 idle memory per session, callback face | ≤ 0.5 KB (500 B) | localipc-callback 471 B/session | 471 | **met** |")
	assert.Contains(t, out, "W2 GB/s, 64KiB writes, localipc-blocking vs net | ≥ 1.00× net | not measured |")
}

func TestRatiosToOtherPeers(t *testing.T) {
	// two builds of the callback face, one renamed, and nbio
	const passes = `
BenchmarkW1PingPong/contender=localipc-callback-2 1 0 ns/op 40000 roundtrips/s
BenchmarkW1PingPong/contender=localipc-exp-2      1 0 ns/op 60000 roundtrips/s
BenchmarkW1PingPong/contender=nbio-2              1 0 ns/op 50000 roundtrips/s
`
	set, err := results.Parse(strings.NewReader(passes))
	require.NoError(t, err)
	defer func(was []string) { peers = was }(peers)
	peers = []string{"localipc-callback", "nbio"}
	var buf bytes.Buffer
	writeRatios(&buf, runs{set, false})
	out := buf.String()
	assert.Contains(t, out, "| workload | figure | localipc face | median | ÷ localipc-callback | ÷ nbio |\n|---|---|---|--:|--:|--:|\n")
	assert.Contains(t, out, "| W1PingPong | roundtrips/s (higher is better) | localipc-exp | 60.0k | 1.50 | 1.20 |\n")
}

func TestPairedRatios(t *testing.T) {
	// two passes: the second under load from elsewhere that halves both
	const passes = `
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 200 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 50 sessions/s
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 90 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 45 sessions/s
`
	set, err := results.Parse(strings.NewReader(passes))
	require.NoError(t, err)
	a, b := "W5Churn/contender=localipc-callback", "W5Churn/contender=net"

	r, ok := ratio(runs{set, false}, a, b, "sessions/s")
	require.True(t, ok)
	assert.InDelta(t, 2.0, r, 1e-9, "ratio of the medians")

	r, ok = ratio(runs{set, true}, a, b, "sessions/s")
	require.True(t, ok)
	assert.InDelta(t, 2.0, r, 1e-9, "median of 2, 2, 2")

	set.Values[b]["sessions/s"][2] = 90 // the last pass: net lucky
	r, _ = ratio(runs{set, true}, a, b, "sessions/s")
	assert.InDelta(t, 2.0, r, 1e-9, "median of 2, 2, 1")
	r, _ = ratio(runs{set, false}, a, b, "sessions/s")
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
	const passes = `
BenchmarkW5Churn/contender=localipc-blocking-2 1 0 ns/op 110 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=localipc-blocking-2 1 0 ns/op 90 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
BenchmarkW5Churn/contender=localipc-blocking-2 1 0 ns/op 105 sessions/s
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s
`
	set := parsePaired(t, passes)
	var buf bytes.Buffer
	writeTargets(&buf, set)
	out := buf.String()
	assert.Contains(t, out, "| W5 sessions/s, localipc-blocking vs net | ≥ 1.00× net | 105 localipc-blocking / 100 net | 1.050× | **met** | 2 of 3 | 1.00 |\n")
	assert.Contains(t, out, "| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | not measured | – | | – | – |\n")
}

func TestPairedRatiosSkipThePassesThatLostARun(t *testing.T) {
	// three passes; in the second the callback face's run had 40 % steal
	const passes = `
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 120 sessions/s 1 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 2 steal-%
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op  50 sessions/s 40 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 3 steal-%
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 110 sessions/s 0 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 1 steal-%
`
	set := parsePaired(t, passes)
	var buf bytes.Buffer
	writeTargets(&buf, set)
	assert.Contains(t, buf.String(), "| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | 110 localipc-callback / 100 net | 1.100× | **met** | 2 of 3 | 1.00 |\n")

	dropped, measured := set.DropSteal(5)
	require.Equal(t, [2]int{1, 6}, [2]int{dropped, measured})
	buf.Reset()
	writeTargets(&buf, set)
	assert.Contains(t, buf.String(), "| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | 115 localipc-callback / 100 net | 1.150× | **met** | 2 of 2 | 0.50 |\n", "the second pass has no ratio")

	r, ok := ratio(runs{set.Set, false}, "W5Churn/contender=localipc-callback", "W5Churn/contender=net", "sessions/s")
	require.True(t, ok)
	assert.InDelta(t, 1.15, r, 1e-9, "medians 115 / 100")
}

func TestRatiosSayWhyTheyAreMissing(t *testing.T) {
	// two passes; -maxsteal leaves out the face's run in the first and
	// net's in the second, so no pass has both; W4's peer has 0 goroutines
	const passes = `
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 120 sessions/s 40 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 2 steal-%
BenchmarkW5Churn/contender=localipc-callback-2 1 0 ns/op 110 sessions/s 0 steal-%
BenchmarkW5Churn/contender=net-2               1 0 ns/op 100 sessions/s 30 steal-%
BenchmarkW4Idle/contender=localipc-callback-2  1 0 ns/op 0 goroutines/session
BenchmarkW4Idle/contender=raw-2                1 0 ns/op 0 goroutines/session
`
	set := parsePaired(t, passes)
	set.DropSteal(5)
	defer func(was []string) { peers = was }(peers)
	peers = []string{"net", "raw"}
	var buf bytes.Buffer
	writeRatios(&buf, set)
	assert.Equal(t, `Ratios are medians of the per-pass ratios; the median column is the median of the runs.

| workload | figure | localipc face | median | ÷ net | ÷ raw |
|---|---|---|--:|--:|--:|
| W5Churn | sessions/s (higher is better) | localipc-callback | 110 | (no pass kept both) | – |
| W4Idle | goroutines/session (lower is better) | localipc-callback | 0.000 | – | (peer 0) |
`, buf.String())
}

func TestNoRatioLooksAtThePassesThatKeptBoth(t *testing.T) {
	// the peer is 0 in the one pass that kept both runs and 5 in the pass
	// where the face's run was left out: its median is positive, but the
	// ratio is missing because of the 0
	const passes = `
BenchmarkW4Idle/contender=localipc-callback-2 1 0 ns/op 1 goroutines/session 0 steal-%
BenchmarkW4Idle/contender=raw-2               1 0 ns/op 0 goroutines/session 0 steal-%
BenchmarkW4Idle/contender=localipc-callback-2 1 0 ns/op 1 goroutines/session 50 steal-%
BenchmarkW4Idle/contender=raw-2               1 0 ns/op 5 goroutines/session 0 steal-%
`
	set := parsePaired(t, passes)
	set.DropSteal(5)
	face, peer := "W4Idle/contender=localipc-callback", "W4Idle/contender=raw"
	_, ok := ratio(set, face, peer, "goroutines/session")
	require.False(t, ok)
	assert.Equal(t, "(peer 0)", noRatio(set, face, peer, "goroutines/session"))
}

// parsePaired reads text as interleaved passes.
func parsePaired(t *testing.T, text string) runs {
	t.Helper()
	set, err := results.Parse(strings.NewReader(text))
	require.NoError(t, err)
	return runs{set, true}
}

func TestBothRunsMeetATargetOnlyIfEachDoes(t *testing.T) {
	// run A: two runs by their medians; run B: three paired passes
	runA := churnPass(110, 300, 100) + churnPass(120, 280, 100) + idleRun(520) + idleRun(510)
	runB := churnPass(90, 250, 100) + churnPass(105, 90, 100) + churnPass(95, 200, 100) + idleRun(480)
	a, err := results.Parse(strings.NewReader(runA))
	require.NoError(t, err)
	var buf bytes.Buffer
	writeBoth(&buf, runs{a, false}, parsePaired(t, runB))
	out := buf.String()
	for _, want := range []string{
		"| target | goal | run A: `-count 2` (ratio of medians) | run B: 3 passes of `-count 1` (paired) | verdict |\n",
		"| W5 sessions/s, localipc-blocking vs net | ≥ 1.00× net | ✔ 1.150×<br><sub>115 localipc-blocking / 100 net</sub> | ✘ 0.950×<br><sub>95.00 localipc-blocking / 100 net</sub><br><sub>1 of 3 passes, p = 1.00</sub> | mixed |\n",
		"| W5 sessions/s, localipc-callback vs net | ≥ 1.00× net | ✔ 2.900×<br><sub>290 localipc-callback / 100 net</sub> | ✔ 2.000×<br><sub>200 localipc-callback / 100 net</sub><br><sub>2 of 3 passes, p = 1.00</sub> | **met** |\n",
		"| W4 idle memory per session, callback face | ≤ 0.5 KB (500 B) | ✘ 515<br><sub>localipc-callback 515 B/session</sub> | ✔ 480<br><sub>localipc-callback 480 B/session</sub> | mixed |\n",
		"| W1 round trips/s, blocking face vs net | ≥ 1.00× net | – | – | not measured |\n",
		"\n2 of 25 targets met in both runs, 0 missed in both, 2 mixed, 21 not measured in one or both.\n",
	} {
		assert.Contains(t, out, want)
	}
}

// churnPass is one pass of W5 over the blocking face, the callback face
// and net, with their sessions/s.
func churnPass(blocking, callback, net float64) string {
	var b strings.Builder
	for _, r := range []struct {
		name string
		v    float64
	}{{"localipc-blocking", blocking}, {"localipc-callback", callback}, {"net", net}} {
		fmt.Fprintf(&b, "BenchmarkW5Churn/contender=%s-2 1 0 ns/op %g sessions/s\n", r.name, r.v)
	}
	return b.String()
}

// idleRun is one run of W4 on the callback face.
func idleRun(bytesPerSession float64) string {
	return fmt.Sprintf("BenchmarkW4Idle/N=10000/contender=localipc-callback-2 1 0 ns/op %g B/session 0 goroutines/session\n", bytesPerSession)
}
