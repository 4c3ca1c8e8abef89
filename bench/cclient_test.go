//go:build linux

package bench

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/workload"
)

// buildCClient compiles the C clients of cclient/ into a directory of the
// benchmark's and returns the directory.
func buildCClient(b *testing.B) string {
	dir := b.TempDir()
	out, err := exec.Command("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", filepath.Join(dir, "pingpong"), "cclient/pingpong.c").CombinedOutput()
	if err != nil {
		b.Skipf("no C client (gcc: %v): %s", err, out)
	}
	return dir
}

// placements are where W1 with the C client runs its two processes: left
// to the scheduler; both on CPU 0, where every wake-up of one is a switch
// away from the other; or the server alone on CPU 0 and the client on CPU
// 1, where the server has one P and one CPU and its client is elsewhere.
var placements = []struct{ name, server, client string }{
	{"spread", "", ""},
	{"pinned", "0", "0"},
	{"apart", "0", "1"},
}

// cContenders are those W1 runs with the C client: the callback face (and
// its wait-mode variants, when named) against the peers its target names.
var cContenders = []string{
	"localipc-callback", "localipc-callback-netpoll", "localipc-callback-locked", "localipc-callback-busy",
	"localipc-callback-adaptive", "localipc-callback-block",
	"net", "gnet", "nbio",
}

// BenchmarkW1PingPongC is W1 with the client in C (cclient/pingpong.c):
// Go's scheduler is then on the server side only. It reports the client's
// round trips/s and latency and the server's CPU time per round trip.
func BenchmarkW1PingPongC(b *testing.B) {
	p := plan(b)
	dir := buildCClient(b)
	for _, pl := range placements {
		b.Run("cpus="+pl.name, func(b *testing.B) {
			if pl.client == "1" && runtime.NumCPU() < 2 {
				b.Skip("no CPU 1 to put the client on")
			}
			runEachOn(b, pl.server, contenders(cContenders...), false, func(srv *workload.ServerProc) (workload.Figures, error) {
				return cPingPong(filepath.Join(dir, "pingpong"), pl.client, srv, p.Rounds)
			})
		})
	}
}

// cPingPong runs the C client against srv, on cpus if not empty.
func cPingPong(exe, cpus string, srv *workload.ServerProc, rounds int) (workload.Figures, error) {
	args := []string{exe, srv.Path, strconv.Itoa(rounds)}
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cpu0, err := srv.CPU()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		<-done
		return nil, fmt.Errorf("C client did not finish in time")
	}
	if err != nil {
		return nil, fmt.Errorf("C client: %v: %s", err, stderr.String())
	}
	cpu1, err := srv.CPU()
	if err != nil {
		return nil, err
	}
	f, err := parseFigures(stdout.String())
	if err != nil {
		return nil, err
	}
	warm := min(rounds/10, 10_000) // the client's warm-up, which the server's CPU time includes
	f["cpu-µs/rt"] = float64((cpu1 - cpu0).Microseconds()) / float64(rounds+warm)
	return f, nil
}

// parseFigures reads the C client's "unit value" pairs; "-us" units are
// given the figure names of the Go clients ("-µs").
func parseFigures(line string) (workload.Figures, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 || len(fields)%2 != 0 {
		return nil, fmt.Errorf("C client printed %q", line)
	}
	f := workload.Figures{}
	for i := 0; i < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i+1], 64)
		if err != nil {
			return nil, fmt.Errorf("C client printed %q: %w", line, err)
		}
		f[strings.Replace(fields[i], "-us", "-µs", 1)] = v
	}
	return f, nil
}
