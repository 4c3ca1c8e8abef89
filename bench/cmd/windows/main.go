// Command windows summarizes a log of a loop's wait modes window by window,
// as kept in results/phases-*.txt: for each client and each mode, how the
// windows' mean round trips spread, how many were fast, and how often a
// fast or a slow window was followed by a fast one (whether a state lasts
// from one window to the next, which a loop that chose its wait by timing
// windows would need).
//
//	go run ./cmd/windows -in results/phases-w1-alternating-c39deb6.txt
//
// The log's lines: "# client=NAME ..." starts a run of that client; "MODE
// NS ..." is one window, MODE true while the loop blocked at once and false
// while it spun, NS the window's mean round trip in nanoseconds (further
// fields are ignored); other lines starting with "#" are comments.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// window is one window of the log.
type window struct {
	blocking bool
	mean     time.Duration
}

// run is the windows of one benchmark run, in their order.
type run struct {
	client  string
	windows []window
}

func main() {
	in := flag.String("in", "", "the log to read")
	fast := flag.Duration("fast", 12*time.Microsecond, "a window whose mean round trip is at most this is fast")
	flag.Parse()
	if err := summarizeFile(os.Stdout, *in, *fast); err != nil {
		fmt.Fprintln(os.Stderr, "windows:", err)
		os.Exit(1)
	}
}

func summarizeFile(w io.Writer, path string, fast time.Duration) error {
	if path == "" {
		return errors.New("-in is required")
	}
	if fast <= 0 {
		return fmt.Errorf("-fast %v: want a positive duration", fast)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runs, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !slices.ContainsFunc(runs, func(r run) bool { return len(r.windows) > 0 }) {
		return fmt.Errorf("%s: no windows", path)
	}
	summarize(w, runs, fast)
	return nil
}

// parse reads a log; a window before the first run's header is an error.
func parse(r io.Reader) ([]run, error) {
	var runs []run
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(text, "# client="); ok {
			name, _, _ := strings.Cut(rest, " ")
			if name == "" {
				return nil, fmt.Errorf("line %d: a run with no client name", line)
			}
			runs = append(runs, run{client: name})
			continue
		}
		if strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: want a mode and a mean, got %q", line, text)
		}
		blocking, err := strconv.ParseBool(fields[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: mode: %w", line, err)
		}
		ns, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil || ns <= 0 {
			return nil, fmt.Errorf("line %d: mean %q is not a positive count of nanoseconds", line, fields[1])
		}
		if len(runs) == 0 {
			return nil, fmt.Errorf("line %d: a window before the first \"# client=\" line", line)
		}
		last := &runs[len(runs)-1]
		last.windows = append(last.windows, window{blocking, time.Duration(ns)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", line, err)
	}
	return runs, nil
}

// modeFigures are the spread of one mode's windows of one client.
type modeFigures struct {
	count                   int
	p10, p25, p50, p75, p90 time.Duration
	mean                    time.Duration
	fastShare               float64
}

func figuresOf(means []time.Duration, fast time.Duration) modeFigures {
	s := slices.Sorted(slices.Values(means))
	// The nearest rank: the smallest mean that at least q of the windows
	// do not exceed.
	at := func(q float64) time.Duration { return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)] }
	var sum time.Duration
	nFast := 0
	for _, d := range s {
		sum += d
		if d <= fast {
			nFast++
		}
	}
	return modeFigures{
		count: len(s),
		p10:   at(0.10), p25: at(0.25), p50: at(0.50), p75: at(0.75), p90: at(0.90),
		mean:      sum / time.Duration(len(s)),
		fastShare: float64(nFast) / float64(len(s)),
	}
}

// persistence is, over consecutive windows of one client's runs, the share
// of fast windows after a fast one and after a slow one; -1 where no window
// had such a predecessor.
func persistence(runs []run, client string, fast time.Duration) (afterFast, afterSlow float64) {
	var ff, fs, sf, ss int
	for _, r := range runs {
		if r.client != client {
			continue
		}
		for i := 1; i < len(r.windows); i++ {
			wasFast, isFast := r.windows[i-1].mean <= fast, r.windows[i].mean <= fast
			switch {
			case wasFast && isFast:
				ff++
			case wasFast:
				fs++
			case isFast:
				sf++
			default:
				ss++
			}
		}
	}
	share := func(a, b int) float64 {
		if a+b == 0 {
			return -1
		}
		return float64(a) / float64(a+b)
	}
	return share(ff, fs), share(sf, ss)
}

func summarize(w io.Writer, runs []run, fast time.Duration) {
	var clients []string
	for _, r := range runs {
		if len(r.windows) > 0 && !slices.Contains(clients, r.client) {
			clients = append(clients, r.client)
		}
	}
	fmt.Fprintf(w, "| client | wait | windows | p10 | p25 | median | p75 | p90 | mean | fast (≤ %s) |\n", us(fast))
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, c := range clients {
		for _, blocking := range []bool{false, true} {
			var means []time.Duration
			for _, r := range runs {
				if r.client != c {
					continue
				}
				for _, win := range r.windows {
					if win.blocking == blocking {
						means = append(means, win.mean)
					}
				}
			}
			if len(means) == 0 {
				continue
			}
			m := figuresOf(means, fast)
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %.0f %% |\n", c, modeName(blocking), m.count,
				us(m.p10), us(m.p25), us(m.p50), us(m.p75), us(m.p90), us(m.mean), 100*m.fastShare)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| client | fast after a fast window | fast after a slow window |")
	fmt.Fprintln(w, "|---|--:|--:|")
	for _, c := range clients {
		af, as := persistence(runs, c, fast)
		fmt.Fprintf(w, "| %s | %s | %s |\n", c, percent(af), percent(as))
	}
}

func modeName(blocking bool) string {
	if blocking {
		return "block at once"
	}
	return "spin"
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }

func percent(share float64) string {
	if share < 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", 100*share)
}
