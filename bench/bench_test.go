//go:build linux

package bench

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/workload"
)

// Every server runs in a process of its own: the test binary re-executes
// itself, and TestMain turns that child into the server.
func TestMain(m *testing.M) {
	workload.ServeChildIfAsked(Contenders())
	os.Exit(m.Run())
}

// Sizes. Each flag defaults to its environment variable, if set, and then to
// workload.FullPlan; with -short, to workload.QuickPlan instead. A zero
// value means "the plan's".
var (
	flagRounds    = flag.Int("w1.rounds", envInt("LOCALIPC_BENCH_ROUNDS"), "W1 round trips (default: FullPlan's, QuickPlan's with -short)")
	flagBulk      = flag.Int64("w2.bytes", int64(envInt("LOCALIPC_BENCH_BULK_BYTES")), "W2 bytes, sent once in 64 KiB and once in 4 KiB writes (default: the plan's)")
	flagSessions  = flag.String("w3.sessions", os.Getenv("LOCALIPC_BENCH_SESSIONS"), "W3/W6/W7 session counts, comma-separated (default: 100,1000,10000; 100,1000 with -short)")
	flagFanout    = flag.Duration("w3.time", envDuration("LOCALIPC_BENCH_FANOUT_TIME"), "W3/W6/W7 measured time per run, plus a quarter of warm-up (default: the plan's)")
	flagIdle      = flag.Int("w4.sessions", envInt("LOCALIPC_BENCH_IDLE_SESSIONS"), "W4 idle sessions (default: the plan's)")
	flagChurn     = flag.Duration("w5.time", envDuration("LOCALIPC_BENCH_CHURN_TIME"), "W5 time per run (default: the plan's)")
	flagOnly      = flag.String("contenders", os.Getenv("LOCALIPC_BENCH_CONTENDERS"), "comma-separated contenders to run (default: all)")
	flagServerCPU = flag.String("servercpuprofile", "", "write each server's CPU profile to FILE-<contender>-<benchmark>.pprof")
)

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

// plan is the sizes in force: FullPlan (QuickPlan with -short) with the
// flags laid over it.
func plan(b *testing.B) workload.Plan {
	p := workload.FullPlan
	if testing.Short() {
		p = workload.QuickPlan
	}
	if *flagRounds > 0 {
		p.Rounds = *flagRounds
	}
	if *flagBulk > 0 {
		p.BulkBytes = *flagBulk
	}
	if *flagSessions != "" {
		p.FanoutSessions = nil
		for _, s := range strings.Split(*flagSessions, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				b.Fatalf("-w3.sessions: bad count %q", s)
			}
			p.FanoutSessions = append(p.FanoutSessions, n)
		}
	}
	if *flagFanout > 0 {
		p.FanoutTime = *flagFanout
	}
	if *flagIdle > 0 {
		p.IdleSessions = *flagIdle
	}
	if *flagChurn > 0 {
		p.ChurnTime = *flagChurn
	}
	if *flagServerCPU != "" {
		os.Setenv(workload.EnvCPUProfile, *flagServerCPU)
	}
	return p
}

// contenders returns the names to run: those of want (all if want is empty)
// that -contenders lets through (workload.Selected), in the order -contenders
// gives them, else in Contenders' order. The order is the caller's to choose
// because the first contender of a benchmark runs on a machine the benchmark
// before it left warm in its own way; paired passes reverse it to cancel that.
func contenders(want ...string) []string {
	all := Contenders()
	order := make([]string, 0, len(all))
	if *flagOnly != "" {
		order = strings.Split(*flagOnly, ",")
	} else {
		for _, c := range all {
			order = append(order, c.Name)
		}
	}
	var names []string
	for _, name := range order {
		i := slices.IndexFunc(all, func(c workload.Contender) bool { return c.Name == name })
		if i >= 0 && !slices.Contains(names, name) && (len(want) == 0 || slices.Contains(want, name)) && workload.Selected(all[i], *flagOnly) {
			names = append(names, name)
		}
	}
	return names
}

// runEach runs one sub-benchmark per contender: b.N times, a fresh server
// process for the contender and the workload against it; it reports the
// workload's figures (their mean, if b.N > 1) with their own units, and the
// share of the machine's CPU time the hypervisor took meanwhile, steal-%
// (workload.CPUTimes), by which a noisy pass shows itself.
func runEach(b *testing.B, names []string, sink bool, work func(srv *workload.ServerProc) (workload.Figures, error)) {
	runEachOn(b, "", names, sink, work)
}

// runEachOn is runEach with each server confined to the CPUs of the list
// cpus (workload.StartServerOn); empty: anywhere.
func runEachOn(b *testing.B, cpus string, names []string, sink bool, work func(srv *workload.ServerProc) (workload.Figures, error)) {
	if len(names) == 0 {
		b.Skip("no contender selected")
	}
	for _, name := range names {
		b.Run("contender="+name, func(b *testing.B) {
			sum := workload.Figures{}
			for range b.N {
				before, stealErr := workload.ReadCPUTimes()
				f, err := once(cpus, name, sink, profileTag(b.Name()), work)
				if err != nil {
					b.Fatalf("%s: %v", name, err)
				}
				if after, err := workload.ReadCPUTimes(); stealErr == nil && err == nil {
					f["steal-%"] = before.StealPercent(after)
				}
				for unit, v := range f {
					sum[unit] += v
				}
			}
			units := make([]string, 0, len(sum))
			for unit := range sum {
				units = append(units, unit)
			}
			slices.Sort(units)
			b.ReportMetric(0, "ns/op") // one op is a whole workload: its time means nothing
			for _, unit := range units {
				b.ReportMetric(sum[unit]/float64(b.N), unit)
			}
		})
	}
}

// profileTag turns a benchmark's name into a file-name part for its
// server's profiles.
func profileTag(benchmark string) string {
	return strings.NewReplacer("/", "-", "=", "", " ", "-").Replace(benchmark)
}

// once starts the contender's server, runs the workload, and stops the
// server whatever happened.
func once(cpus, name string, sink bool, tag string, work func(srv *workload.ServerProc) (workload.Figures, error)) (f workload.Figures, err error) {
	srv, err := workload.StartServerOn(cpus, os.Args[0], name, sink, tag)
	if err != nil {
		return nil, err
	}
	defer func() {
		if stopErr := srv.Stop(); err == nil && stopErr != nil {
			err = fmt.Errorf("stop: %w", stopErr)
		}
	}()
	return work(srv)
}

func BenchmarkW1PingPong(b *testing.B) {
	p := plan(b)
	runEach(b, contenders(), false, func(srv *workload.ServerProc) (workload.Figures, error) {
		return workload.PingPong(srv.Path, p.Rounds)
	})
}

func BenchmarkW2Bulk(b *testing.B) {
	p := plan(b)
	for _, w := range []struct {
		name  string
		total int64
		chunk int
	}{
		{"64KiB", p.BulkBytes, 64 << 10},
		{"4KiB", p.BulkBytes, 4 << 10},
	} {
		b.Run("write="+w.name, func(b *testing.B) {
			runEach(b, contenders(), true, func(srv *workload.ServerProc) (workload.Figures, error) {
				return workload.Bulk(srv.Path, w.total, w.chunk, srv.CPU)
			})
		})
	}
}

// fanout is W3 and its variants W6 and W7, which only restrict the servers.
func fanout(b *testing.B, names []string) {
	p := plan(b)
	for _, n := range p.FanoutSessions {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			runEach(b, names, false, func(srv *workload.ServerProc) (workload.Figures, error) {
				return workload.Fanout(srv.Path, n, p.FanoutTime, srv.CPU)
			})
		})
	}
}

func BenchmarkW3Fanout(b *testing.B) { fanout(b, contenders()) }

func BenchmarkW4Idle(b *testing.B) {
	p := plan(b)
	b.Run(fmt.Sprintf("N=%d", p.IdleSessions), func(b *testing.B) {
		runEach(b, contenders(), false, func(srv *workload.ServerProc) (workload.Figures, error) {
			return workload.Idle(srv, p.IdleSessions)
		})
	})
}

func BenchmarkW5Churn(b *testing.B) {
	p := plan(b)
	runEach(b, contenders(), false, func(srv *workload.ServerProc) (workload.Figures, error) {
		return workload.Churn(srv.Path, p.ChurnTime)
	})
}

// BenchmarkW6BlockingFanout is W3 on the servers with a goroutine per
// session calling Read and Write.
func BenchmarkW6BlockingFanout(b *testing.B) {
	fanout(b, contenders("localipc-blocking", "net"))
}

// BenchmarkW7WaitAndRead is W3 on localipc's IPRT-style server
// (WaitForData + ReadNB, a goroutine per session) and its callback face.
func BenchmarkW7WaitAndRead(b *testing.B) {
	fanout(b, contenders("localipc-wait", "localipc-callback"))
}
