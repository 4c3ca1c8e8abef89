// Command plot draws the fan-out workload (W3, or another with the same
// sub-benchmarks) from `go test -bench` output as an SVG: messages per
// second and p99 latency against the session count, one line per contender,
// each point the median of the runs (-count) for it.
//
//	go run ./cmd/plot -in results.txt -out ../docs/benchmarks.svg
//
// It uses only the standard library: the SVG is written by hand.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/localipc/localipc/bench/internal/results"
)

func main() {
	in := flag.String("in", "", "`go test -bench` output to read (default: standard input)")
	out := flag.String("out", "", "SVG file to write (default: standard output)")
	bench := flag.String("bench", "W3Fanout", "benchmark to plot: its sub-benchmarks must be N=<sessions>/contender=<name>")
	title := flag.String("title", "", "title (default: one naming the benchmark and the number of runs)")
	note := flag.String("note", "", "a line of small print under the title (the machine, the run)")
	flag.Parse()
	if err := run(*in, *out, *bench, *title, *note); err != nil {
		fmt.Fprintln(os.Stderr, "plot:", err)
		os.Exit(1)
	}
}

func run(in, out, bench, title, note string) error {
	r := io.Reader(os.Stdin)
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	res, err := results.Parse(r)
	if err != nil {
		return err
	}
	series, runs := fanoutSeries(res, bench)
	if len(series) == 0 {
		return fmt.Errorf("no Benchmark%s/N=.../contender=... results in the input", bench)
	}
	if title == "" {
		title = fmt.Sprintf("Benchmark%s: each point the median of %d runs", bench, runs)
		if runs == 1 {
			title = fmt.Sprintf("Benchmark%s: one run per point", bench)
		}
	}
	w := io.Writer(os.Stdout)
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	draw(bw, title, note, series)
	return bw.Flush()
}

// point is one contender at one session count: medians.
type point struct {
	sessions int
	msgs     float64 // msgs/s
	p99      float64 // µs
}

type series struct {
	contender string
	points    []point
}

// fanoutSeries gathers Benchmark<bench>/N=<n>/contender=<c> into one series
// per contender, in the order the contenders first appear, with the points
// by session count; it also returns the largest number of runs of a point.
func fanoutSeries(res *results.Set, bench string) ([]series, int) {
	var out []series
	index := map[string]int{}
	runs := 0
	for _, name := range res.Names {
		parts := strings.Split(name, "/")
		if len(parts) != 3 || parts[0] != bench {
			continue
		}
		ns, ok1 := strings.CutPrefix(parts[1], "N=")
		c, ok2 := strings.CutPrefix(parts[2], "contender=")
		n, err := strconv.Atoi(ns)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		runs = max(runs, res.Runs(name, "msgs/s"))
		i, ok := index[c]
		if !ok {
			i = len(out)
			index[c] = i
			out = append(out, series{contender: c})
		}
		out[i].points = append(out[i].points, point{sessions: n, msgs: results.Median(res.Values[name]["msgs/s"]), p99: results.Median(res.Values[name]["p99-µs"])})
	}
	for i := range out {
		slices.SortFunc(out[i].points, func(a, b point) int { return a.sessions - b.sessions })
	}
	return out, runs
}

// style gives each contender a colour and a dash pattern: localipc's faces
// solid and thick, the rest thinner, the floor (raw) dotted.
func style(contender string, i int) (colour, dash string, width float64) {
	palette := []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}
	known := map[string]string{
		"localipc-callback": "#d62728",
		"localipc-blocking": "#ff7f0e",
		"localipc-wait":     "#e377c2",
		"net":               "#1f77b4",
		"raw":               "#333333",
		"gnet":              "#2ca02c",
		"nbio":              "#9467bd",
	}
	colour, ok := known[contender]
	if !ok {
		colour = palette[i%len(palette)]
	}
	switch {
	case strings.HasPrefix(contender, "localipc"):
		return colour, "", 2.5
	case contender == "raw":
		return colour, "2 4", 2
	}
	return colour, "7 4", 1.6
}

// axis maps values to pixels, linearly or on a log scale.
type axis struct {
	lo, hi   float64 // value range
	from, to float64 // pixel range
	log      bool
}

func (a axis) at(v float64) float64 {
	if a.log {
		return a.from + (math.Log10(v)-math.Log10(a.lo))/(math.Log10(a.hi)-math.Log10(a.lo))*(a.to-a.from)
	}
	return a.from + (v-a.lo)/(a.hi-a.lo)*(a.to-a.from)
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts span
// into at most about n pieces.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func humanMicros(us float64) string {
	switch {
	case us >= 1e6:
		return strconv.FormatFloat(us/1e6, 'f', -1, 64) + " s"
	case us >= 1e3:
		return strconv.FormatFloat(us/1e3, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(us, 'f', -1, 64) + " µs"
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

const (
	width, height          = 1040, 510
	panelW, panelH         = 400, 300
	leftA, leftB, panelTop = 90, 590, 80
)

// draw writes the whole figure: two panels sharing the x axis (sessions, log
// scale) and a legend below them.
func draw(w io.Writer, title, note string, ss []series) {
	var sessions []int
	maxMsgs, minP99, maxP99 := 0.0, math.Inf(1), 0.0
	for _, s := range ss {
		for _, p := range s.points {
			if !slices.Contains(sessions, p.sessions) {
				sessions = append(sessions, p.sessions)
			}
			if !math.IsNaN(p.msgs) {
				maxMsgs = max(maxMsgs, p.msgs)
			}
			if p.p99 > 0 {
				minP99 = min(minP99, p.p99)
				maxP99 = max(maxP99, p.p99)
			}
		}
	}
	slices.Sort(sessions)
	xlo, xhi := float64(sessions[0]), float64(sessions[len(sessions)-1])
	if xlo == xhi {
		xlo, xhi = xlo/2, xhi*2
	}
	// a little room on both sides of the outermost session counts
	pad := (math.Log10(xhi) - math.Log10(xlo)) * 0.08
	xlo, xhi = math.Pow(10, math.Log10(xlo)-pad), math.Pow(10, math.Log10(xhi)+pad)

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="24" text-anchor="middle" font-size="17" font-weight="bold">%s</text>`+"\n", width/2, esc(title))
	if note != "" {
		fmt.Fprintf(w, `<text x="%d" y="42" text-anchor="middle" font-size="11" fill="#555555">%s</text>`+"\n", width/2, esc(note))
	}

	// left: messages per second, linear from zero
	if maxMsgs <= 0 {
		maxMsgs = 1
	}
	step := niceStep(maxMsgs, 6)
	top := math.Ceil(maxMsgs*1.05/step) * step
	ya := axis{lo: 0, hi: top, from: panelTop + panelH, to: panelTop}
	xa := axis{lo: xlo, hi: xhi, from: leftA, to: leftA + panelW, log: true}
	var yticks []float64
	for v := 0.0; v <= top+step/2; v += step {
		yticks = append(yticks, v)
	}
	panel(w, xa, ya, sessions, yticks, humanCount, "messages/s (all sessions, higher is better)", "sessions (log scale)")
	for i, s := range ss {
		line(w, s, i, xa, ya, func(p point) float64 { return p.msgs })
	}

	// right: p99 latency, log scale over whole decades
	if maxP99 <= 0 {
		minP99, maxP99 = 1, 10
	}
	lo, hi := math.Pow(10, math.Floor(math.Log10(minP99))), math.Pow(10, math.Ceil(math.Log10(maxP99)))
	if lo == hi {
		hi *= 10
	}
	ya = axis{lo: lo, hi: hi, from: panelTop + panelH, to: panelTop, log: true}
	xa = axis{lo: xlo, hi: xhi, from: leftB, to: leftB + panelW, log: true}
	yticks = nil
	for v := lo; v <= hi*1.001; v *= 10 {
		yticks = append(yticks, v)
	}
	panel(w, xa, ya, sessions, yticks, humanMicros, "p99 round-trip latency (log scale, lower is better)", "sessions (log scale)")
	for i, s := range ss {
		line(w, s, i, xa, ya, func(p point) float64 { return p.p99 })
	}

	legend(w, ss)
	fmt.Fprintln(w, "</svg>")
}

// panel draws a frame, grid lines, ticks and labels.
func panel(w io.Writer, xa, ya axis, xticks []int, yticks []float64, ylabel func(float64) string, title, xtitle string) {
	x0, x1, y0, y1 := xa.from, xa.to, ya.from, ya.to
	fmt.Fprintf(w, `<g class="panel">`+"\n")
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="14">%s</text>`+"\n", (x0+x1)/2, y1-14, esc(title))
	for _, v := range yticks {
		y := ya.at(v)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", x0, y, x1, y)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", x0-8, y, esc(ylabel(v)))
	}
	for _, n := range xticks {
		x := xa.at(float64(n))
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", x, y0, x, y1)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x, y0, x, y0+5)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, y0+20, esc(strconv.Itoa(n)))
	}
	fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="black"/>`+"\n", x0, y1, x1-x0, y0-y1)
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", (x0+x1)/2, y0+42, esc(xtitle))
	fmt.Fprintf(w, "</g>\n")
}

// line draws one contender's polyline and its markers.
func line(w io.Writer, s series, i int, xa, ya axis, value func(point) float64) {
	colour, dash, width := style(s.contender, i)
	var pts []string
	for _, p := range s.points {
		v := value(p)
		if math.IsNaN(v) || (ya.log && v <= 0) {
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", xa.at(float64(p.sessions)), ya.at(v)))
	}
	if len(pts) == 0 {
		return
	}
	dashAttr := ""
	if dash != "" {
		dashAttr = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(w, `<g class="series"><title>%s</title>`+"\n", esc(s.contender))
	fmt.Fprintf(w, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f"%s/>`+"\n", strings.Join(pts, " "), colour, width, dashAttr)
	for _, p := range pts {
		xy := strings.Split(p, ",")
		fmt.Fprintf(w, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`+"\n", xy[0], xy[1], colour)
	}
	fmt.Fprintf(w, "</g>\n")
}

// legend draws one entry per contender in rows below the panels.
func legend(w io.Writer, ss []series) {
	const perRow, colW, rowH = 4, 230, 22
	y0 := float64(panelTop + panelH + 75)
	left := (width - perRow*colW) / 2.0
	fmt.Fprintf(w, `<g class="legend">`+"\n")
	for i, s := range ss {
		colour, dash, sw := style(s.contender, i)
		x := left + float64(i%perRow)*colW
		y := y0 + float64(i/perRow)*rowH
		dashAttr := ""
		if dash != "" {
			dashAttr = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
		}
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", x, y, x+36, y, colour, sw, dashAttr)
		fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", x+18, y, colour)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", x+44, y, esc(s.contender))
	}
	fmt.Fprintf(w, "</g>\n")
}
