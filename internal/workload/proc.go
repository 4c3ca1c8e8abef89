//go:build linux || windows

package workload

import (
	"bufio"
	"context"
	"errors"
	"expvar"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// The server under test runs in a process of its own, so that its CPU time,
// its memory high-water mark and its goroutines are its alone. The harness
// re-executes its own binary with these variables set; ServeChildIfAsked,
// called early in main (or TestMain), turns that process into the server.
const (
	envServer = "LOCALIPC_WORKLOAD_SERVER"
	envPath   = "LOCALIPC_WORKLOAD_PATH"
	envSink   = "LOCALIPC_WORKLOAD_SINK"
	envTag    = "LOCALIPC_WORKLOAD_TAG" // names the step in profile file names

	// EnvCPUProfile and EnvMemProfile, when set in the harness, make every
	// server write its CPU or heap profile to <value>-<contender>-<step>.pprof.
	EnvCPUProfile = "LOCALIPC_WORKLOAD_CPUPROFILE"
	EnvMemProfile = "LOCALIPC_WORKLOAD_MEMPROFILE"

	// EnvDebugAddr, when set in the harness, makes every server serve
	// expvar's /debug/vars on that TCP address while it runs: the callback
	// server's Server.StatsVar as "localipc", beside expvar's own cmdline
	// and memstats (docs/profiling.md). The servers run one at a time, so
	// each takes the address in turn.
	EnvDebugAddr = "LOCALIPC_WORKLOAD_DEBUGADDR"
)

// ServeChildIfAsked serves as the contender named in the environment and
// exits, if this process was started as a workload server; otherwise it
// returns at once. The server prints READY when it listens, answers the line
// "stats" with "goroutines N", and stops when its standard input closes.
func ServeChildIfAsked(contenders []Contender) {
	name := os.Getenv(envServer)
	if name == "" {
		return
	}
	os.Exit(serveChild(name, contenders))
}

func serveChild(name string, contenders []Contender) int {
	var c *Contender
	for i := range contenders {
		if contenders[i].Name == name {
			c = &contenders[i]
		}
	}
	if c == nil {
		fmt.Fprintf(os.Stderr, "workload server: no contender %q\n", name)
		return 2
	}
	if prefix := os.Getenv(EnvCPUProfile); prefix != "" {
		f, err := os.Create(profileName(prefix, name))
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "workload server %s: cpu profile: %v\n", name, err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if prefix := os.Getenv(EnvMemProfile); prefix != "" {
		defer func() {
			if f, err := os.Create(profileName(prefix, name)); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}()
	}
	stop, err := c.Serve(os.Getenv(envPath), os.Getenv(envSink) == "1")
	if err != nil {
		fmt.Fprintf(os.Stderr, "workload server %s: %v\n", name, err)
		return 1
	}
	if addr := os.Getenv(EnvDebugAddr); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "workload server %s: debug address: %v\n", name, err)
			stop()
			return 1
		}
		defer ln.Close()
		go http.Serve(ln, expvar.Handler())
	}
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "stats" {
			fmt.Printf("goroutines %d\n", runtime.NumGoroutine())
		}
	}
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "workload server %s: stop: %v\n", name, err)
		return 1
	}
	return 0
}

func profileName(prefix, contender string) string {
	name := prefix + "-" + contender
	if tag := os.Getenv(envTag); tag != "" {
		name += "-" + tag
	}
	return name + ".pprof"
}

// ServerProc is a running server child.
type ServerProc struct {
	Path string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

// StartServer starts exe as the server for contender on a fresh socket
// path, and waits (at most 30 s) until it listens. tag, if not empty, goes
// into the names of the server's profile files (EnvCPUProfile), so that
// the servers of different steps do not overwrite each other's.
func StartServer(exe, contender string, sink bool, tag string) (*ServerProc, error) {
	return StartServerOn("", exe, contender, sink, tag)
}

// StartServerOn is StartServer with the server's process, every thread of
// it, confined to the CPUs of the list cpus (taskset's syntax: "0", "0-1");
// an empty list leaves it to the scheduler.
func StartServerOn(cpus, exe, contender string, sink bool, tag string) (*ServerProc, error) {
	path := benchPath(fmt.Sprintf("localipc-bench-%d-%d", os.Getpid(), time.Now().UnixNano()))
	cmd := exec.Command(exe)
	if cpus != "" {
		// taskset sets the mask, then executes exe in its own process, so
		// the runtime's threads all inherit it and the pid is exe's.
		cmd = exec.Command("taskset", "-c", cpus, exe)
	}
	sinkVal := "0"
	if sink {
		sinkVal = "1"
	}
	cmd.Env = append(os.Environ(), envServer+"="+contender, envPath+"="+path, envSink+"="+sinkVal, envTag+"="+tag)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &ServerProc{Path: path, cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := p.readLine(30 * time.Second)
	if err != nil || line != "READY" {
		p.Stop()
		return nil, fmt.Errorf("server %s did not start: %q %v", contender, line, err)
	}
	return p, nil
}

func (p *ServerProc) readLine(limit time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := p.out.ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-time.After(limit):
		p.cmd.Process.Kill()
		return "", errors.New("server did not answer in time")
	}
}

// Goroutines asks the server how many goroutines it runs.
func (p *ServerProc) Goroutines() (int, error) {
	if _, err := io.WriteString(p.in, "stats\n"); err != nil {
		return 0, err
	}
	line, err := p.readLine(10 * time.Second)
	if err != nil {
		return 0, err
	}
	var n int
	_, err = fmt.Sscanf(line, "goroutines %d", &n)
	return n, err
}

// Stop ends the server (closing its standard input) and waits for it, at
// most 30 s before it is killed.
func (p *ServerProc) Stop() error {
	p.in.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		os.Remove(p.Path)
		return err
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-done
		os.Remove(p.Path)
		return errors.New("server did not stop in time; killed")
	}
}

// shutdownNow is a context already over: Shutdown ends every session at once.
func shutdownNow() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
