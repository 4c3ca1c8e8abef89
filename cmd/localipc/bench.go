//go:build linux || windows

package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/localipc/localipc/internal/workload"
)

// serveBenchChild turns this process into a workload server, and never
// returns, when the bench command started it as one (internal/workload).
func serveBenchChild() { workload.ServeChildIfAsked(workload.Builtin()) }

// runBench runs the workloads for the contenders of this system (localipc,
// net and raw on Linux; localipc's faces on Windows), each server in a
// process of its own, the clients in this one, and prints one table.
func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	full := fs.Bool("full", false, "the full specification (200k round trips, 1 GiB, 10,000-session fan-out, 2 s runs) instead of the quick defaults")
	only := fs.String("contenders", "", "comma-separated contenders to run (default: all)")
	workloads := fs.String("workloads", "", "comma-separated workloads to run, by prefix: W1,W3 (default: all)")
	cpuProfile := fs.String("cpuprofile", "", "write each server's CPU profile to FILE-<contender>-<workload>.pprof")
	memProfile := fs.String("memprofile", "", "write each server's heap profile to FILE-<contender>-<workload>.pprof")
	debugAddr := fs.String("debug-addr", "", "serve each server's expvar /debug/vars (localipc's Server.StatsVar as \"localipc\") on this TCP `host:port` while it runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	plan := workload.QuickPlan
	if *full {
		plan = workload.FullPlan
	}
	var names []string
	for _, c := range workload.Builtin() {
		if workload.Selected(c, *only) {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no such contender in %q", *only)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		os.Setenv(workload.EnvCPUProfile, *cpuProfile)
	}
	if *memProfile != "" {
		os.Setenv(workload.EnvMemProfile, *memProfile)
	}
	if *debugAddr != "" {
		os.Setenv(workload.EnvDebugAddr, *debugAddr)
	}
	var onlyWorkloads []string
	if *workloads != "" {
		onlyWorkloads = strings.Split(*workloads, ",")
	}
	steps := plan.Steps(names, onlyWorkloads...)
	if len(steps) == 0 {
		return fmt.Errorf("no such workload in %q", *workloads)
	}
	start := time.Now()
	tty := isTerminal(os.Stderr)
	results := workload.Run(exe, steps, func(i int, s workload.Step) {
		progress(tty, i, len(steps), fmt.Sprintf("%s N=%d %s", s.Workload, s.Sessions, s.Contender), time.Since(start))
	})
	progress(tty, len(steps), len(steps), "done", time.Since(start))
	fmt.Printf("localipc bench: %d runs in %.1f s; each server in its own process, clients in this one; ratios are to %s\n\n",
		len(steps), time.Since(start).Seconds(), workload.Reference)
	workload.WriteTable(os.Stdout, results, names, workload.Reference)
	for _, r := range results {
		if r.Err != nil {
			return fmt.Errorf("%d runs failed", countErrors(results))
		}
	}
	return nil
}

func countErrors(results []workload.Result) int {
	n := 0
	for _, r := range results {
		if r.Err != nil {
			n++
		}
	}
	return n
}

// progress draws a bar on a terminal, a line per step elsewhere.
func progress(tty bool, i, n int, what string, elapsed time.Duration) {
	if !tty {
		if i < n {
			fmt.Fprintf(os.Stderr, "[%d/%d] %s\n", i+1, n, what)
		}
		return
	}
	const width = 30
	filled := width * i / n
	fmt.Fprintf(os.Stderr, "\r\033[K[%s%s] %d/%d %5.1fs %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), i, n, elapsed.Seconds(), what)
	if i == n {
		fmt.Fprintln(os.Stderr)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
