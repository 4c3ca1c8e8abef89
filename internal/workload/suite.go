//go:build linux || windows

package workload

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Plan says how big each workload is.
type Plan struct {
	Rounds         int           // W1 round trips
	BulkBytes      int64         // W2 bytes, sent in 64 KiB and in 4 KiB writes
	FanoutSessions []int         // W3 session counts
	FanoutTime     time.Duration // W3 measured time per run (plus a quarter of warm-up)
	IdleSessions   int           // W4 sessions
	ChurnTime      time.Duration // W5 time per run
}

// QuickPlan is the built-in default of `localipc bench`: every workload, sized
// to finish in well under a minute on a 2-core machine.
var QuickPlan = Plan{
	Rounds:         20_000,
	BulkBytes:      256 << 20,
	FanoutSessions: []int{100, 1000},
	FanoutTime:     500 * time.Millisecond,
	IdleSessions:   10_000,
	ChurnTime:      500 * time.Millisecond,
}

// FullPlan is the project's benchmark specification.
var FullPlan = Plan{
	Rounds:         200_000,
	BulkBytes:      1 << 30,
	FanoutSessions: []int{100, 1000, 10_000},
	FanoutTime:     2 * time.Second,
	IdleSessions:   10_000,
	ChurnTime:      2 * time.Second,
}

// Step is one workload run against one contender.
type Step struct {
	Workload  string // "W1 ping-pong", ...
	Sessions  int
	Contender string
	run       func(p *ServerProc) (Figures, error)
	sink      bool
}

// Steps lists the runs of the plan for the named contenders, grouped by
// workload so that the contenders of one row run back to back. If only is
// not empty, just the workloads whose name starts with one of its entries
// ("W3", "W1 ping-pong") run.
func (p Plan) Steps(contenders []string, only ...string) []Step {
	var steps []Step
	add := func(workload string, sessions int, sink bool, run func(p *ServerProc) (Figures, error)) {
		if len(only) > 0 && !slices.ContainsFunc(only, func(w string) bool { return strings.HasPrefix(workload, w) }) {
			return
		}
		for _, c := range contenders {
			steps = append(steps, Step{Workload: workload, Sessions: sessions, Contender: c, run: run, sink: sink})
		}
	}
	add("W1 ping-pong", 1, false, func(s *ServerProc) (Figures, error) { return PingPong(s.Path, p.Rounds) })
	add("W2 bulk 64 KiB", 1, true, func(s *ServerProc) (Figures, error) { return Bulk(s.Path, p.BulkBytes, 64<<10, s.CPU) })
	add("W2 bulk 4 KiB", 1, true, func(s *ServerProc) (Figures, error) { return Bulk(s.Path, p.BulkBytes, 4<<10, s.CPU) })
	for _, n := range p.FanoutSessions {
		add("W3 fan-out", n, false, func(s *ServerProc) (Figures, error) { return Fanout(s.Path, n, p.FanoutTime, s.CPU) })
	}
	add("W4 idle", p.IdleSessions, false, func(s *ServerProc) (Figures, error) { return Idle(s, p.IdleSessions) })
	add("W5 churn", 1, false, func(s *ServerProc) (Figures, error) { return Churn(s.Path, p.ChurnTime) })
	return steps
}

// Result is a step and what it measured.
type Result struct {
	Step
	Figures Figures
	Err     error
}

// Run runs every step with its own server process made from exe, calling
// progress before each.
func Run(exe string, steps []Step, progress func(i int, s Step)) []Result {
	results := make([]Result, 0, len(steps))
	for i, s := range steps {
		if progress != nil {
			progress(i, s)
		}
		r := Result{Step: s}
		tag := strings.NewReplacer(" ", "-").Replace(fmt.Sprintf("%s-N%d", s.Workload, s.Sessions))
		srv, err := StartServer(exe, s.Contender, s.sink, tag)
		if err == nil {
			r.Figures, r.Err = s.run(srv)
			if err := srv.Stop(); r.Err == nil && err != nil {
				r.Err = err
			}
		} else {
			r.Err = err
		}
		results = append(results, r)
	}
	return results
}

// the figure each workload is judged by, first, and others worth a column
var workloadFigures = map[string][]string{
	"W1 ping-pong":   {"roundtrips/s", "p50-µs", "p99-µs"},
	"W2 bulk 64 KiB": {"GB/s", "cpu-s/GB"},
	"W2 bulk 4 KiB":  {"GB/s", "cpu-s/GB"},
	"W3 fan-out":     {"msgs/s", "p99-µs", "cpu-s/Mmsg"},
	"W4 idle":        {"B/session", "goroutines/session"},
	"W5 churn":       {"sessions/s"},
}

// WriteTable prints one row per workload, size and figure, one column per
// contender, each cell with its ratio to the reference contender (net).
func WriteTable(w io.Writer, results []Result, contenders []string, reference string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\tN\tfigure\t%s\t\n", strings.Join(contenders, "\t"))
	type key struct {
		workload  string
		sessions  int
		contender string
	}
	byKey := map[key]Result{}
	var rows []key
	for _, r := range results {
		k := key{r.Workload, r.Sessions, r.Contender}
		byKey[k] = r
		if r.Contender == contenders[0] {
			rows = append(rows, key{r.Workload, r.Sessions, ""})
		}
	}
	for _, row := range rows {
		for _, fig := range workloadFigures[row.workload] {
			ref := byKey[key{row.workload, row.sessions, reference}].Figures[fig]
			cells := make([]string, 0, len(contenders))
			for _, c := range contenders {
				r := byKey[key{row.workload, row.sessions, c}]
				v, ok := r.Figures[fig]
				switch {
				case r.Err != nil:
					cells = append(cells, "error")
				case !ok:
					cells = append(cells, "-")
				case c == reference || ref == 0:
					cells = append(cells, Human(v))
				default:
					cells = append(cells, fmt.Sprintf("%s (%.2fx)", Human(v), v/ref))
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", row.workload, row.sessions, fig, strings.Join(cells, "\t"))
		}
	}
	tw.Flush()
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(w, "error: %s N=%d %s: %v\n", r.Workload, r.Sessions, r.Contender, r.Err)
		}
	}
}
