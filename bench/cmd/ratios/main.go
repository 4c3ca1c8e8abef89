// Command ratios reads `go test -bench` output of this module and prints,
// as Markdown, every contender's medians, then localipc's faces as ratios
// to every peer (net, gnet, nbio, raw), then the project's targets, each met
// or missed. With -paired (interleaved passes) each ratio is taken within a
// pass, and every target also shows the passes that met it and the sign
// test of that count.
//
//	go run ./cmd/ratios -in results.txt
//	go run ./cmd/ratios -paired -in passes.txt
//	go run ./cmd/ratios -paired -maxsteal 5 -in passes.txt
//	go run ./cmd/ratios -in results.txt -b passes.txt
//	go run ./cmd/ratios -paired -peers localipc-callback,nbio -in builds.txt
//
// -b prints the targets of two runs side by side, run A (-in) by its
// medians and run B paired: the Targets table of docs/benchmarks.md.
//
// -maxsteal leaves out the runs during which the hypervisor took more than
// that share of the machine's CPU time (the steal-% figure): on a shared
// host those runs measure the neighbours, not the code.
package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/localipc/localipc/bench/internal/results"
	"github.com/localipc/localipc/internal/workload"
)

func main() {
	in := flag.String("in", "", "`go test -bench` output to read (default: standard input)")
	paired := flag.Bool("paired", false, "the runs are interleaved (several `go test -count 1` passes): take each ratio within a pass, then the median of those, instead of the ratio of the medians")
	runB := flag.String("b", "", "run B: interleaved passes of the same binary, read as -paired; prints only the targets of -in (run A, by its medians) and of run B side by side, each met only if met in both")
	flag.Func("peers", "the contenders that localipc's faces are divided by in the ratios table, comma-separated (default net,gnet,nbio,raw); another face or build may be one, to compare builds", func(v string) error {
		peers = strings.Split(v, ",")
		return nil
	})
	maxSteal := flag.Float64("maxsteal", 100, "leave out every run whose `steal-%` was above this (default: keep all); with -paired, a pass's ratio of two contenders is left out if either run was")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	a, err := read(w, *in, *paired && *runB == "", *maxSteal)
	var b runs
	if err == nil && *runB != "" {
		b, err = read(w, *runB, true, *maxSteal)
	}
	if err != nil {
		w.Flush()
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if *runB != "" {
		writeBoth(w, a, b)
		return
	}
	writeMedians(w, a.Set)
	fmt.Fprintln(w)
	writeRatios(w, a)
	fmt.Fprintln(w)
	writeTargets(w, a)
}

// read parses the results in the file named (standard input if none) and
// leaves out the runs above maxSteal, saying so on w.
func read(w io.Writer, name string, paired bool, maxSteal float64) (runs, error) {
	r := io.Reader(os.Stdin)
	if name != "" {
		f, err := os.Open(name)
		if err != nil {
			return runs{}, err
		}
		defer f.Close()
		r = f
	}
	set, err := results.Parse(r)
	if err != nil {
		return runs{}, fmt.Errorf("%s: %w", name, err)
	}
	if maxSteal < 100 {
		dropped, measured := set.DropSteal(maxSteal)
		fmt.Fprintf(w, "Left out of %s: %d of the %d runs with a steal figure, those above %g %% steal.\n\n", cmp.Or(name, "standard input"), dropped, measured, maxSteal)
	}
	return runs{set, paired}, nil
}

// peers are the contenders of the ratios table's columns (-peers).
var peers = []string{"net", "gnet", "nbio", "raw"}

// runs is one file of results. paired says that the i-th run of every
// benchmark belongs to the same pass over all of them, so that a/b is best
// taken run by run: load from elsewhere that comes and goes between passes
// then cancels out.
type runs struct {
	*results.Set
	paired bool
}

// ratio is a's figure over b's: the median of the per-pass ratios if
// paired (and both have the same number of runs), else the ratio of the
// medians.
func ratio(set runs, a, b, unit string) (float64, bool) {
	va, vb := set.Values[a][unit], set.Values[b][unit]
	if len(va) == 0 || len(vb) == 0 {
		return math.NaN(), false
	}
	if set.paired && len(va) == len(vb) {
		rs := passRatios(va, vb)
		if len(rs) == 0 {
			return math.NaN(), false
		}
		return results.Median(rs), true
	}
	ma, mb := results.Median(va), results.Median(vb)
	if math.IsNaN(ma) || !(mb > 0) {
		return math.NaN(), false
	}
	return ma / mb, true
}

// passRatios is va over vb pass by pass; the caller has checked that the
// runs are paired and that both have one run in every pass.
func passRatios(va, vb []float64) []float64 {
	var rs []float64
	for i := range va {
		// A ratio to a figure that is not positive means nothing: a
		// count that is 0 give or take one (W4's goroutines) included.
		// A pass whose run of either was left out (NaN) has no ratio.
		if vb[i] > 0 && !math.IsNaN(va[i]) {
			rs = append(rs, va[i]/vb[i])
		}
	}
	return rs
}

// signTest is the two-sided sign test of k passes of n going one way: the
// chance of a count at least as far from n/2 if either way were as likely.
// A verdict whose p is large was decided by the run, not by the code.
func signTest(k, n int) float64 {
	if n == 0 {
		return 1
	}
	tail := min(k, n-k)
	var sum float64
	for i := 0; i <= tail; i++ {
		sum += binomial(n, i)
	}
	return min(1, 2*sum/math.Exp2(float64(n)))
}

func binomial(n, k int) float64 {
	c := 1.0
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return c
}

// figures lists, per benchmark, the figures worth a ratio; lower says which
// are better lower.
var figures = map[string][]string{
	"W1PingPong":       {"roundtrips/s", "p99-µs"},
	"W1PingPongC":      {"roundtrips/s", "p99-µs", "cpu-µs/rt"},
	"W2Bulk":           {"GB/s", "cpu-s/GB"},
	"W3Fanout":         {"msgs/s", "p99-µs", "cpu-s/Mmsg"},
	"W4Idle":           {"B/session", "goroutines/session"},
	"W5Churn":          {"sessions/s"},
	"W6BlockingFanout": {"msgs/s", "p99-µs"},
	"W7WaitAndRead":    {"msgs/s", "p99-µs"},
}

var lower = map[string]bool{"p99-µs": true, "p50-µs": true, "cpu-s/Mmsg": true, "cpu-s/GB": true, "cpu-µs/rt": true, "B/session": true, "goroutines/session": true}

// split cuts "W3Fanout/N=100/contender=gnet" into its row
// ("W3Fanout/N=100") and contender ("gnet").
func split(name string) (row, contender string) {
	i := strings.LastIndex(name, "/contender=")
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+len("/contender="):]
}

// rows returns the rows in order of appearance and, per row, the contenders.
func rows(set *results.Set) ([]string, map[string][]string) {
	var order []string
	by := map[string][]string{}
	for _, name := range set.Names {
		row, c := split(name)
		if c == "" {
			continue
		}
		if _, ok := by[row]; !ok {
			order = append(order, row)
		}
		by[row] = append(by[row], c)
	}
	return order, by
}

// peerName is the benchmark that has the peer's figure for the row: the
// row's own or, for W6 and W7, which only run some contenders, W3's at the
// same session count (borrowed reports so).
func peerName(set *results.Set, row, peer, unit string) (name string, borrowed, ok bool) {
	name = row + "/contender=" + peer
	if _, ok := set.Median(name, unit); ok {
		return name, false, true
	}
	bench, rest, _ := strings.Cut(row, "/")
	if bench == "W6BlockingFanout" || bench == "W7WaitAndRead" {
		name = "W3Fanout/" + rest + "/contender=" + peer
		if _, ok := set.Median(name, unit); ok {
			return name, true, true
		}
	}
	return "", false, false
}

// writeMedians prints every contender's median of each figure, a column
// per contender.
func writeMedians(w io.Writer, set *results.Set) {
	order, by := rows(set)
	var all []string
	for _, row := range order {
		for _, c := range by[row] {
			if !slices.Contains(all, c) {
				all = append(all, c)
			}
		}
	}
	fmt.Fprintf(w, "| workload | figure | %s |\n", strings.Join(all, " | "))
	fmt.Fprintf(w, "|---|---|%s\n", strings.Repeat("--:|", len(all)))
	for _, row := range order {
		bench, _, _ := strings.Cut(row, "/")
		for _, unit := range figures[bench] {
			cells := []string{row, unit}
			for _, c := range all {
				v, ok := set.Median(row+"/contender="+c, unit)
				if !ok {
					cells = append(cells, "")
					continue
				}
				cells = append(cells, workload.Human(v))
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
	}
}

func writeRatios(w io.Writer, set runs) {
	order, by := rows(set.Set)
	if set.paired {
		fmt.Fprintln(w, "Ratios are medians of the per-pass ratios; the median column is the median of the runs.")
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| workload | figure | localipc face | median | ÷ %s |\n", strings.Join(peers, " | ÷ "))
	fmt.Fprintf(w, "|---|---|---|--:|%s\n", strings.Repeat("--:|", len(peers)))
	anyBorrowed := false
	for _, row := range order {
		bench, _, _ := strings.Cut(row, "/")
		for _, unit := range figures[bench] {
			better := "higher is better"
			if lower[unit] {
				better = "lower is better"
			}
			for _, c := range by[row] {
				if !strings.HasPrefix(c, "localipc") {
					continue
				}
				v, ok := set.Median(row+"/contender="+c, unit)
				if !ok {
					continue
				}
				cells := []string{row, unit + " (" + better + ")", c, workload.Human(v)}
				for _, p := range peers {
					pname, borrowed, ok := peerName(set.Set, row, p, unit)
					if !ok {
						cells = append(cells, "–")
						continue
					}
					r, ok := ratio(set, row+"/contender="+c, pname, unit)
					switch {
					case !ok:
						cells = append(cells, noRatio(set, row+"/contender="+c, pname, unit))
					default:
						cell := fmt.Sprintf("%.2f", r)
						if borrowed {
							cell += " †"
							anyBorrowed = true
						}
						cells = append(cells, cell)
					}
				}
				fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
			}
		}
	}
	if anyBorrowed {
		fmt.Fprintln(w, "\n† W6 and W7 run only localipc's faces (and net for W6): that peer's figure is its W3 median at the same N.")
	}
}

// noRatio says why ratio found none for a face and a peer that both have a
// median: paired, no pass kept a run of both (-maxsteal left out one of the
// two in each); otherwise the peer's figure, in every pass that kept both,
// was not positive (W4's goroutines).
func noRatio(set runs, face, peer, unit string) string {
	va, vb := set.Values[face][unit], set.Values[peer][unit]
	if set.paired && len(va) == len(vb) {
		for i := range va {
			if !math.IsNaN(va[i]) && !math.IsNaN(vb[i]) {
				return "(peer 0)"
			}
		}
		return "(no pass kept both)"
	}
	return "(peer 0)"
}

// target is one goal: the ratio (or value) must satisfy ok.
type target struct {
	what  string
	value func(set runs) (measure, bool) // false if not present
	ok    func(v float64) bool
	goal  string
}

// measure is a target's figure, how it was computed and, for a ratio of
// paired runs, the ratio of each pass.
type measure struct {
	v      float64
	how    string
	passes []float64
}

// ratioTo is a's figure over b's (see ratio), or over the best of several
// peers: the smallest of the ratios.
func ratioTo(a string, unit string, bs ...string) func(set runs) (measure, bool) {
	return func(set runs) (measure, bool) {
		av, ok := set.Median(a, unit)
		if !ok {
			return measure{}, false
		}
		worst, bestName := math.Inf(1), ""
		for _, b := range bs {
			if r, ok := ratio(set, a, b, unit); ok && r < worst {
				worst, bestName = r, b
			}
		}
		if bestName == "" {
			return measure{}, false
		}
		bv, _ := set.Median(bestName, unit)
		_, ac := split(a)
		_, bc := split(bestName)
		how := fmt.Sprintf("%s %s / %s %s", workload.Human(av), ac, workload.Human(bv), bc)
		if len(bs) > 1 {
			how += " (the best peer)"
		}
		m := measure{v: worst, how: how}
		if va, vb := set.Values[a][unit], set.Values[bestName][unit]; set.paired && len(va) == len(vb) {
			m.passes = passRatios(va, vb)
		}
		return m, true
	}
}

func value(name, unit string) func(set runs) (measure, bool) {
	return func(set runs) (measure, bool) {
		v, ok := set.Median(name, unit)
		_, c := split(name)
		return measure{v: v, how: fmt.Sprintf("%s %s %s", c, workload.Human(v), unit)}, ok
	}
}

func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
func above(x float64) func(float64) bool   { return func(v float64) bool { return v > x } }
func atMost(x float64) func(float64) bool  { return func(v float64) bool { return v <= x } }

func targets() []target {
	c := func(row, contender string) string { return row + "/contender=" + contender }
	var ts []target
	ts = append(ts, target{"W1 round trips/s, blocking face vs net", ratioTo(c("W1PingPong", "localipc-blocking"), "roundtrips/s", c("W1PingPong", "net")), atLeast(1), "≥ 1.00× net"})
	bestPeer := func(row string) []string { return []string{c(row, "net"), c(row, "gnet"), c(row, "nbio")} }
	for _, w1 := range []struct{ row, what string }{
		{"W1PingPong", "Go client"},
		{"W1PingPongC/cpus=spread", "C client, unpinned"},
		{"W1PingPongC/cpus=pinned", "C client, both on one CPU"},
	} {
		ts = append(ts, target{"W1 round trips/s, callback vs every peer, " + w1.what, ratioTo(c(w1.row, "localipc-callback"), "roundtrips/s", bestPeer(w1.row)...), atLeast(1), "≥ 1.00× the best of net, gnet, nbio"})
	}
	for _, wr := range []string{"64KiB", "4KiB"} {
		row := "W2Bulk/write=" + wr
		for _, face := range []string{"localipc-blocking", "localipc-callback"} {
			ts = append(ts, target{fmt.Sprintf("W2 GB/s, %s writes, %s vs net", wr, face), ratioTo(c(row, face), "GB/s", c(row, "net")), atLeast(1), "≥ 1.00× net"})
		}
	}
	for _, n := range []string{"100", "1000", "10000"} {
		row := "W3Fanout/N=" + n
		ts = append(ts,
			target{fmt.Sprintf("W3 msgs/s N=%s, blocking face vs net", n), ratioTo(c(row, "localipc-blocking"), "msgs/s", c(row, "net")), atLeast(1), "≥ 1.00× net"},
			target{fmt.Sprintf("W3 server CPU per message N=%s, blocking face vs net", n), ratioTo(c(row, "localipc-blocking"), "cpu-s/Mmsg", c(row, "net")), atMost(1), "≤ 1.00× net"},
			target{fmt.Sprintf("W3 msgs/s N=%s, localipc-wait vs localipc-blocking", n), ratioTo(c(row, "localipc-wait"), "msgs/s", c(row, "localipc-blocking")), atLeast(0.95), "≥ 0.95× localipc-blocking"},
		)
	}
	for _, n := range []struct {
		n   string
		min float64
	}{{"1000", 0.9}, {"10000", 0.95}} {
		row := "W3Fanout/N=" + n.n
		ts = append(ts,
			target{fmt.Sprintf("W3 msgs/s N=%s, callback vs raw", n.n), ratioTo(c(row, "localipc-callback"), "msgs/s", c(row, "raw")), atLeast(n.min), fmt.Sprintf("≥ %.2f× raw", n.min)},
			target{fmt.Sprintf("W3 msgs/s N=%s, callback vs every peer", n.n), ratioTo(c(row, "localipc-callback"), "msgs/s", c(row, "net"), c(row, "gnet"), c(row, "nbio")), above(1), "> 1.00× the best of net, gnet, nbio"},
		)
	}
	ts = append(ts,
		target{"W4 idle memory per session, callback face", value(c("W4Idle/N=10000", "localipc-callback"), "B/session"), atMost(500), "≤ 0.5 KB (500 B)"},
		target{"W4 goroutines per idle session, callback face", value(c("W4Idle/N=10000", "localipc-callback"), "goroutines/session"), atMost(0.01), "no goroutine per session (< 0.01)"},
	)
	for _, face := range []string{"localipc-blocking", "localipc-callback"} {
		ts = append(ts, target{"W5 sessions/s, " + face + " vs net", ratioTo(c("W5Churn", face), "sessions/s", c("W5Churn", "net")), atLeast(1), "≥ 1.00× net"})
	}
	return ts
}

func writeTargets(w io.Writer, set runs) {
	// Paired runs add, per target, the passes that met it on their own and
	// the sign test of that count.
	head, rule := "| target | goal | measured (medians) | result | |", "|---|---|---|--:|---|"
	if set.paired {
		head, rule = head+" passes met | sign test p |", rule+"--:|--:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	var missed []string
	for _, t := range targets() {
		m, ok := t.value(set)
		if !ok {
			fmt.Fprintf(w, "| %s | %s | not measured | – | |%s\n", t.what, t.goal, passColumns(set.paired, t, measure{}))
			continue
		}
		v, how := m.v, m.how
		verdict := "**met**"
		if !t.ok(v) {
			verdict = "**MISSED**"
			missed = append(missed, t.what)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |%s\n", t.what, t.goal, how, t.shown(v), verdict, passColumns(set.paired, t, m))
	}
	fmt.Fprintf(w, "\n%d of %d targets missed.\n", len(missed), len(targets()))
}

// shown is v as the target's row prints it: a ratio to three places, so
// that a miss by a hair does not print as 1.00×.
func (t target) shown(v float64) string {
	if strings.Contains(t.goal, "×") {
		return fmt.Sprintf("%.3f×", v)
	}
	return workload.Human(v)
}

// writeBoth prints the targets of run A (a, by its medians) and run B (b,
// paired passes) side by side. A target is met only if it is met in both:
// one run on a shared host can be lucky or unlucky for one contender.
func writeBoth(w io.Writer, a, b runs) {
	fmt.Fprintf(w, "| target | goal | run A: `-count %d` (ratio of medians) | run B: %d passes of `-count 1` (paired) | verdict |\n", a.maxRuns(), b.maxRuns())
	fmt.Fprintln(w, "|---|---|---|---|---|")
	count := map[string]int{}
	for _, t := range targets() {
		cellA, metA, okA := t.cell(a)
		cellB, metB, okB := t.cell(b)
		verdict := "mixed"
		switch {
		case !okA || !okB:
			verdict = "not measured"
		case metA && metB:
			verdict = "**met**"
		case !metA && !metB:
			verdict = "**MISSED**"
		}
		count[verdict]++
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", t.what, t.goal, cellA, cellB, verdict)
	}
	fmt.Fprintf(w, "\n%d of %d targets met in both runs, %d missed in both, %d mixed, %d not measured in one or both.\n",
		count["**met**"], len(targets()), count["**MISSED**"], count["mixed"], count["not measured"])
}

// cell is the target's cell of a run in writeBoth's table: met or not, the
// figure, and how it was computed (for paired runs, also the passes that
// met it and the sign test of that count); ok is false if not measured.
func (t target) cell(set runs) (cell string, met, ok bool) {
	m, ok := t.value(set)
	if !ok {
		return "–", false, false
	}
	met = t.ok(m.v)
	mark := "✘"
	if met {
		mark = "✔"
	}
	cell = fmt.Sprintf("%s %s<br><sub>%s</sub>", mark, t.shown(m.v), m.how)
	if k, n := t.passesMet(m); set.paired && n > 0 {
		cell += fmt.Sprintf("<br><sub>%d of %d passes, p = %.2f</sub>", k, n, signTest(k, n))
	}
	return cell, met, true
}

// maxRuns is the most runs any benchmark has: the -count of a run, the
// number of passes of interleaved ones.
func (set runs) maxRuns() int {
	n := 0
	for _, units := range set.Values {
		for _, v := range units {
			n = max(n, len(v))
		}
	}
	return n
}

// passColumns is the cells that paired runs add to a target's row: the
// passes that met it on their own and the sign test of that count, or
// dashes where there is no ratio per pass. Unpaired, none.
func passColumns(paired bool, t target, m measure) string {
	if !paired {
		return ""
	}
	if len(m.passes) == 0 {
		return " – | – |"
	}
	k, n := t.passesMet(m)
	return fmt.Sprintf(" %d of %d | %.2f |", k, n, signTest(k, n))
}

// passesMet is how many of the n passes of m met the target on their own.
func (t target) passesMet(m measure) (k, n int) {
	for _, r := range m.passes {
		if t.ok(r) {
			k++
		}
	}
	return k, len(m.passes)
}
