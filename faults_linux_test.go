//go:build linux

// Faults: client processes killed mid-write and mid-read while both faces
// serve others, a server process killed under blocked clients, Close racing
// every call, and a Serve server out of descriptors in a child process.

package localipc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/reactor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func init() {
	childWorkers["fault-writer"] = childFaultWriter
	childWorkers["fault-reader"] = childFaultReader
	childWorkers["fault-server"] = childFaultServer
	childWorkers["emfile-server"] = childEMFILEServer
}

// childProc is a child process running one client or server worker, with its
// standard input and the lines of its standard output (closed when the
// child closes its standard output, so "" means it is gone). It is killed and
// reaped when the test ends, whatever happened.
type childProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startWorker(t *testing.T, name, worker string, env ...string) *childProc {
	t.Helper()
	return startWorkerFor(t, 3*time.Minute, name, worker, env...)
}

// startWorkerFor is startWorker with the child's time limit.
func startWorkerFor(t *testing.T, limit time.Duration, name, worker string, env ...string) *childProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+worker, childNameEnv+"="+name), env...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	w := &childProc{cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(w.lines) // a child that dies is noticed at once
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		stdin.Close()
		<-done
		cmd.Wait()
	})
	return w
}

// expectLine waits for the worker's next line and checks its start.
func (w *childProc) expectLine(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	line := within(t, w.lines, d, "the child's "+prefix)
	require.True(t, strings.HasPrefix(line, prefix), "the child said %q, want %q", line, prefix)
	return line
}

// kill sends SIGKILL and reaps the child.
func (w *childProc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, w.cmd.Process.Kill())
	err := w.cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal())
}

// The fault server's protocol: a client's first byte says what it is.
// 'W' streams pattern bytes until it is killed; the server reads them. 'R'
// asks for faultReply bytes, reads them, sends 'B' and blocks in Read until
// it is killed. 'E' is a healthy client: the server echoes what follows.
const faultReply = 256 << 10

func childFaultWriter(name string, flags localipc.Flags, _ bool) error {
	s, err := localipc.Dial(name, flags)
	if err != nil {
		return err
	}
	if _, err := s.Write([]byte{'W'}); err != nil {
		return err
	}
	chunk := pattern(64 << 10)
	for {
		if _, err := s.Write(chunk); err != nil {
			return err
		}
	}
}

func childFaultReader(name string, flags localipc.Flags, _ bool) error {
	s, err := localipc.Dial(name, flags)
	if err != nil {
		return err
	}
	if _, err := s.Write([]byte{'R'}); err != nil {
		return err
	}
	got := make([]byte, faultReply)
	if err := s.ReadFull(got); err != nil {
		return err
	}
	if !bytes.Equal(pattern(faultReply), got) {
		return errors.New("the reply is not the pattern")
	}
	if _, err := s.Write([]byte{'B'}); err != nil {
		return err
	}
	_, err = s.Read(got) // blocks: the server sends nothing more
	return fmt.Errorf("Read returned %v", err)
}

// faultEvent is what a fault server tells the test about one session.
type faultEvent struct {
	kind  byte // the client's first byte
	what  string
	bytes int // 'W': pattern bytes received, all checked
	err   error
}

// faultSession is the server's side of one session of either face: it
// consumes input and says what to send back. Not safe for concurrent use;
// each face calls it from one goroutine (or loop) at a time.
type faultSession struct {
	kind     byte
	received int
	events   chan<- faultEvent
	ready    bool
}

var faultPattern = pattern(4 << 20)

// input consumes b and returns the reply to send. A 'W' session reports
// readiness once it has received 1 MiB, an 'R' session once it sends 'B'.
func (f *faultSession) input(b []byte) (reply []byte, err error) {
	if f.kind == 0 {
		f.kind, b = b[0], b[1:]
		if f.kind == 'R' {
			reply = pattern(faultReply)
		}
	}
	switch f.kind {
	case 'E':
		return append(reply, b...), nil
	case 'W':
		for len(b) > 0 {
			off := f.received % (64 << 10)
			n := min(len(b), 64<<10-off)
			if !bytes.Equal(faultPattern[off:off+n], b[:n]) {
				return nil, fmt.Errorf("byte %d of the stream is wrong", f.received)
			}
			f.received += n
			b = b[n:]
		}
		if !f.ready && f.received >= 1<<20 {
			f.ready = true
			f.events <- faultEvent{kind: 'W', what: "ready"}
		}
	case 'R':
		if bytes.Equal(b, []byte{'B'}) {
			f.events <- faultEvent{kind: 'R', what: "ready"}
		} else if len(b) > 0 {
			return nil, fmt.Errorf("reader sent %q", b)
		}
	default:
		return nil, fmt.Errorf("unknown client kind %q", f.kind)
	}
	return reply, nil
}

func (f *faultSession) closed(err error) {
	f.events <- faultEvent{kind: f.kind, what: "closed", bytes: f.received, err: err}
}

// serveFaultsBlocking serves the fault protocol with a goroutine per
// session, as an IPRT server would; the returned wait ends them all.
func serveFaultsBlocking(t *testing.T, srv *localipc.Server, events chan<- faultEvent) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			s, err := srv.AcceptSession()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.Close()
				f := &faultSession{events: events}
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if err != nil {
						f.closed(err)
						return
					}
					reply, err := f.input(buf[:n])
					if err == nil && len(reply) > 0 {
						_, err = s.Write(reply)
					}
					if err != nil {
						f.closed(err)
						return
					}
				}
			}()
		}
	}()
	return wg.Wait
}

func faultHandler(events chan<- faultEvent) localipc.Handler {
	return &funcHandler{
		open: func(s *localipc.Session) error { s.SetValue(&faultSession{events: events}); return nil },
		data: func(s *localipc.Session, b []byte) int {
			f := s.Value().(*faultSession)
			reply, err := f.input(b)
			if err == nil && len(reply) > 0 {
				_, err = s.Write(reply)
			}
			if err != nil {
				s.Abort(err)
			}
			return len(b)
		},
		close: func(s *localipc.Session, err error) { s.Value().(*faultSession).closed(err) },
	}
}

// TestClientsKilledMidWriteAndMidRead: on each face, rounds of two client
// processes, one killed inside its stream of writes and one inside a
// blocked Read. Each time the server's session ends with VERR_BROKEN_PIPE
// (Read's error on the blocking face, OnClose's on the callback face), what
// the writer sent before it died arrived intact, and healthy clients
// connected throughout are still served; no descriptor is left over.
func TestClientsKilledMidWriteAndMidRead(t *testing.T) {
	const rounds = 4
	for _, face := range []string{"Listen", "Serve"} {
		t.Run(face, func(t *testing.T) {
			noFDLeak(t)
			events := make(chan faultEvent, 16)
			var name string
			if face == "Listen" {
				var srv *localipc.Server
				srv, name = listen(t, 0)
				wait := serveFaultsBlocking(t, srv, events)
				t.Cleanup(func() { srv.Close(); wait() })
			} else {
				_, name = serve(t, faultHandler(events), localipc.WithReactor(newReactor(t)))
			}
			var healthy []*localipc.Session
			for i := 0; i < 3; i++ {
				c := dialT(t, name, 0)
				_, err := c.Write([]byte{'E'})
				require.NoError(t, err)
				healthy = append(healthy, c)
			}
			echoAll := func(tag string) {
				for i, c := range healthy {
					exchangeEcho(t, c, fmt.Sprintf("%s %d", tag, i))
				}
			}
			echoAll("before")
			for round := 0; round < rounds; round++ {
				writer := startWorker(t, name, "fault-writer")
				reader := startWorker(t, name, "fault-reader")
				ready := map[byte]bool{}
				for len(ready) < 2 {
					ev := within(t, events, 30*time.Second, "both children ready")
					require.Equal(t, "ready", ev.what, "%c: %v", ev.kind, ev.err)
					ready[ev.kind] = true
				}
				echoAll(fmt.Sprintf("during round %d", round))
				writer.kill(t)
				reader.kill(t)
				closed := map[byte]faultEvent{}
				for len(closed) < 2 {
					ev := within(t, events, 10*time.Second, "the killed sessions' ends")
					require.Equal(t, "closed", ev.what)
					closed[ev.kind] = ev
				}
				for kind, ev := range closed {
					assert.Equal(t, ipcerr.VERR_BROKEN_PIPE, localipc.Status(ev.err), "%c session ended with %v", kind, ev.err)
				}
				assert.GreaterOrEqual(t, closed['W'].bytes, 1<<20, "the writer's bytes, all checked")
				echoAll(fmt.Sprintf("after round %d", round))
			}
			for _, c := range healthy {
				require.NoError(t, c.Close())
			}
			for range healthy {
				ev := within(t, events, 10*time.Second, "the healthy sessions' ends")
				assert.Equal(t, byte('E'), ev.kind)
				assert.Equal(t, ipcerr.VERR_BROKEN_PIPE, localipc.Status(ev.err), "a closed client is the end of the stream: %v", ev.err)
			}
		})
	}
}

// faultServerHeld keeps the fault server's sessions open until the process
// is killed.
var faultServerHeld []*localipc.Session

// childFaultServer listens, says READY, and gives every client one byte,
// then holds its sessions without reading until it is killed.
func childFaultServer(name string, flags localipc.Flags, _ bool) error {
	srv, err := localipc.Listen(name, flags)
	if err != nil {
		return err
	}
	fmt.Println("READY")
	for {
		s, err := srv.AcceptSession()
		if err != nil {
			return err
		}
		faultServerHeld = append(faultServerHeld, s)
		if _, err := s.Write([]byte{'H'}); err != nil {
			return err
		}
	}
}

// TestServerKilledUnderBlockedClients: clients of both faces blocked in
// Read, Write and WaitForData(Infinite) on a server process that is then
// killed. Every blocking call returns VERR_BROKEN_PIPE within the bound,
// OnClose runs with it on both callback sessions, a callback Write that
// waited for room returns ErrClosed, and nothing is left open.
func TestServerKilledUnderBlockedClients(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)
	server := startWorker(t, name, "fault-server")
	server.expectLine(t, "READY", 30*time.Second)
	// The killed server cannot remove its socket file.
	path, err := localipc.Path(name, 0)
	require.NoError(t, err)
	t.Cleanup(func() { os.Remove(path) })

	hello := func(s *localipc.Session) {
		b := make([]byte, 1)
		require.NoError(t, s.ReadFull(b))
		require.Equal(t, byte('H'), b[0])
	}
	reader, writer, waiter := dialT(t, name, 0), dialT(t, name, 0), dialT(t, name, 0)
	for _, s := range []*localipc.Session{reader, writer, waiter} {
		hello(s)
	}
	r := newReactor(t)
	greeted := make(chan struct{}, 2)
	cbClosed := make(chan error, 2)
	h := &funcHandler{
		data:  func(s *localipc.Session, b []byte) int { greeted <- struct{}{}; return len(b) },
		close: func(s *localipc.Session, err error) { cbClosed <- err },
	}
	var cb [2]*localipc.Session
	for i := range cb {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cb[i], err = localipc.DialContext(ctx, name, 0, localipc.WithHandler(h), localipc.WithReactor(r),
			localipc.WithWatermarks(64<<10, 256<<10))
		cancel()
		require.NoError(t, err)
		t.Cleanup(func() { cb[i].Close() })
		within(t, greeted, 10*time.Second, "the callback session's greeting")
	}

	big := make([]byte, 64<<20)
	read := async(func() error { _, err := reader.Read(make([]byte, 1)); return err })
	wrote := async(func() error { _, err := writer.Write(big); return err })
	waited := async(func() error { return waiter.WaitForData(localipc.Infinite) })
	// The first Write queues what the kernel does not take; the second
	// waits for the queue to drain.
	cbWrote := async(func() error {
		if _, err := cb[1].Write(big); err != nil {
			return fmt.Errorf("the first Write failed: %w", err)
		}
		_, err := cb[1].Write(big[:1])
		return err
	})
	waitParked(t, "(*Session).Read", 1, "IO wait")
	waitParked(t, "(*Session).Write", 1, "IO wait")
	waitParked(t, "(*Session).WaitForData", 1, "IO wait")
	waitParked(t, "(*evConn).wait", 1, "chan receive")

	server.kill(t)
	expect(t, within(t, read, 10*time.Second, "Read"), io.EOF, ipcerr.VERR_BROKEN_PIPE, "Read")
	expect(t, within(t, wrote, 10*time.Second, "Write"), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "Write")
	expect(t, within(t, waited, 10*time.Second, "WaitForData"), localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "WaitForData")
	for range cb {
		assert.Equal(t, ipcerr.VERR_BROKEN_PIPE, localipc.Status(within(t, cbClosed, 10*time.Second, "OnClose")), "OnClose")
	}
	// The loop ended the callback session (OnClose has the reason), and a
	// call on an ended session is ErrClosed, as the Handler contract says.
	expect(t, within(t, cbWrote, 10*time.Second, "callback Write"), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "callback Write")
}

// raceResult is one call's status in a race with Close.
type raceResult struct {
	call   string
	status int
}

// TestCloseRacesEveryCall: thousands of times, Close on one end races a
// Read, a Write, a WaitForData, a Cancel and a Flush on it (a Write, a
// Flush, a Cancel and a CloseWrite on a callback session). Every call
// returns within the bound with one of the statuses IPRT allows it (success
// where it may have come first, VERR_CANCELLED or VERR_INVALID_HANDLE
// otherwise), and the peer receives a Write's bytes exactly when it
// reported success.
func TestCloseRacesEveryCall(t *testing.T) {
	noFDLeak(t)
	const blockingRounds, callbackRounds = 4000, 2000
	srv, name := listen(t, 0)
	accepted := make(chan *localipc.Session, 1)
	go func() {
		for {
			s, err := srv.AcceptSession()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- s
		}
	}()
	r := newReactor(t)
	allowed := map[string][]int{
		"Read":        {ipcerr.VERR_CANCELLED, ipcerr.VERR_INVALID_HANDLE},
		"WaitForData": {ipcerr.VERR_CANCELLED, ipcerr.VERR_INVALID_HANDLE},
		"Write":       {0, ipcerr.VERR_CANCELLED, ipcerr.VERR_INVALID_HANDLE},
		// A Write after CloseWrite meets EPIPE, as on a net.UnixConn.
		"Write after CloseWrite": {0, ipcerr.VERR_CANCELLED, ipcerr.VERR_INVALID_HANDLE, ipcerr.VERR_BROKEN_PIPE},
		"Cancel":                 {0, ipcerr.VERR_INVALID_HANDLE},
		"Flush":                  {0, ipcerr.VERR_CANCELLED, ipcerr.VERR_INVALID_HANDLE},
		"CloseWrite":             {0, ipcerr.VERR_CANCELLED, ipcerr.VERR_INVALID_HANDLE},
		"Close":                  {0},
	}
	seen := map[raceResult]int{}
	msg := []byte("sixteen bytes ..")
	for round := 0; round < blockingRounds+callbackRounds; round++ {
		callback := round >= blockingRounds
		var opts []localipc.Option
		if callback {
			opts = []localipc.Option{localipc.WithHandler(&funcHandler{}), localipc.WithReactor(r)}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		client, err := localipc.DialContext(ctx, name, 0, opts...)
		cancel()
		require.NoError(t, err)
		peer := within(t, accepted, 10*time.Second, "accept")
		require.NotNil(t, peer)
		// Blocking rounds alternate which end is closed.
		target := client
		if !callback && round%2 == 1 {
			target, peer = peer, client
		}

		calls := map[string]func() error{
			"Write":  func() error { _, err := target.Write(msg); return err },
			"Cancel": target.Cancel,
			"Flush":  target.Flush,
		}
		if callback {
			calls["CloseWrite"] = target.CloseWrite
		} else {
			calls["Read"] = func() error { _, err := target.Read(make([]byte, 1)); return err }
			calls["WaitForData"] = func() error { return target.WaitForData(localipc.Infinite) }
		}
		calls["Close"] = target.Close
		start := make(chan struct{})
		results := make(chan raceResult, len(calls))
		for call, f := range calls {
			go func() { <-start; results <- raceResult{call, localipc.Status(f())} }()
		}
		close(start)
		wrote := false
		for range calls {
			res := within(t, results, 10*time.Second, fmt.Sprintf("round %d: the calls racing Close", round))
			rule := res.call
			if callback && rule == "Write" {
				rule = "Write after CloseWrite"
			}
			require.Contains(t, allowed[rule], res.status, "round %d: %s", round, res.call)
			seen[res]++
			if res.call == "Write" && res.status == 0 {
				wrote = true
			}
		}
		// The peer gets the Write's bytes if it succeeded, then the end.
		require.NoError(t, peer.SetReadDeadline(time.Now().Add(10*time.Second)))
		got, err := io.ReadAll(peer)
		if err != nil { // an end with unread bytes may be a reset
			require.Equal(t, ipcerr.VERR_BROKEN_PIPE, localipc.Status(err), "round %d: peer read: %v", round, err)
		}
		if wrote && err == nil {
			require.Equal(t, msg, got, "round %d", round)
		} else if !wrote {
			require.Empty(t, got, "round %d: bytes of a failed Write", round)
		}
		require.NoError(t, peer.Close())
		if callback {
			// The callback session ends on its loop; Release makes sure.
			target.Release()
		}
	}
	require.NoError(t, srv.Close())
	_, open := <-accepted
	require.False(t, open)
	t.Logf("%d rounds; statuses seen: %v", blockingRounds+callbackRounds, seen)
}

// childEMFILEServer lowers its RLIMIT_NOFILE to 64, serves an echo on
// the callback face, then uses up its
// descriptors and says EXHAUSTED; a line on its standard input gives them
// back and it says RELEASED. It runs until its standard input closes.
func childEMFILEServer(name string, flags localipc.Flags, _ bool) error {
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 64, Max: 64}); err != nil {
		return err
	}
	srv, err := localipc.Serve(name, flags, &funcHandler{data: echo})
	if err != nil {
		return err
	}
	defer srv.Close()
	var fillers []int
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EMFILE {
			break
		}
		if err != nil {
			return err
		}
		fillers = append(fillers, fd)
	}
	fmt.Printf("EXHAUSTED %d\n", len(fillers))
	in := bufio.NewScanner(os.Stdin)
	in.Scan()
	for _, fd := range fillers {
		unix.Close(fd)
	}
	fmt.Println("RELEASED")
	for in.Scan() {
	}
	return nil
}

// cpuTicks is a process's user plus system time in clock ticks, from
// /proc/<pid>/stat.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	// The command name may hold spaces; the fields after it may not.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, err := strconv.ParseInt(fields[11], 10, 64) // field 14
	require.NoError(t, err)
	stime, err := strconv.ParseInt(fields[12], 10, 64) // field 15
	require.NoError(t, err)
	return utime + stime
}

// clockTicks is sysconf(_SC_CLK_TCK), which is 100 on every Linux
// architecture Go supports (USER_HZ).
const clockTicks = 100

// TestServeBacksOffOutOfDescriptors: a Serve server in a child process
// whose RLIMIT_NOFILE is low and fully used. Clients wait in the backlog
// while accept fails with EMFILE; over that interval the child spends less
// than a fifth of the wall time on the CPU (a listener that retried at once
// would spin a core), serves nobody, and serves every waiting client once
// descriptors are free. TestAcceptOutOfDescriptors covers AcceptSession,
// which returns the error to its caller instead.
func TestServeBacksOffOutOfDescriptors(t *testing.T) {
	noFDLeak(t)
	name := uniqueName(t)
	server := startWorker(t, name, "emfile-server")
	server.expectLine(t, "EXHAUSTED", 30*time.Second)
	pid := server.cmd.Process.Pid

	const clients = 3
	var waiting []*localipc.Session
	for i := 0; i < clients; i++ {
		c := dialT(t, name, 0) // connect succeeds: the backlog takes it
		_, err := c.Write([]byte{byte('a' + i)})
		require.NoError(t, err)
		waiting = append(waiting, c)
	}
	const interval = 2 * time.Second
	before, start := cpuTicks(t, pid), time.Now()
	time.Sleep(interval) // measuring an interval: there is no event to wait for
	used, wall := cpuTicks(t, pid)-before, time.Since(start)
	cpu := time.Duration(used) * time.Second / clockTicks
	t.Logf("out of descriptors for %v: the child used %v of CPU (%.1f%%)", wall.Round(time.Millisecond), cpu, 100*cpu.Seconds()/wall.Seconds())
	assert.Less(t, cpu.Seconds(), 0.2*wall.Seconds(), "accept must back off, not spin")
	for _, c := range waiting {
		expect(t, c.WaitForData(0), localipc.ErrTimeout, ipcerr.VERR_TIMEOUT, "no one served while out of descriptors")
	}

	_, err := io.WriteString(server.stdin, "release\n")
	require.NoError(t, err)
	server.expectLine(t, "RELEASED", 10*time.Second)
	for i, c := range waiting {
		b := make([]byte, 1)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		require.NoError(t, c.ReadFull(b), "client %d served after the release", i)
		require.Equal(t, byte('a'+i), b[0])
	}
	exchangeEcho(t, dialT(t, name, 0), "a new client is served too")
}

// exchangeEcho sends msg to an echo server and checks it comes back.
func exchangeEcho(t *testing.T, c *localipc.Session, msg string) {
	t.Helper()
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
	got := make([]byte, len(msg))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, c.ReadFull(got))
	require.Equal(t, msg, string(got))
}

// TestCallbackWriterWhileTheLoopRegisters: a goroutine writes a callback
// session full, again and again, while its loop registers new sessions.
// A Write that meets a full kernel buffer asks the loop for the writable
// edge; that request must go through the loop, since the loop's slot table,
// which Register grows, is the loop's own (under -race this found Arm
// called from the writer's goroutine). Every byte arrives.
func TestCallbackWriterWhileTheLoopRegisters(t *testing.T) {
	noFDLeak(t)
	r, err := reactor.New(reactor.WithLoops(1))
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	srv, name := listen(t, 0)
	accepted := acceptAsync(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := localipc.DialContext(ctx, name, 0, localipc.WithHandler(&funcHandler{}), localipc.WithReactor(r))
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	res := within(t, accepted, 10*time.Second, "accept")
	require.NoError(t, res.err)
	peer := res.s

	const total = 16 << 20
	data := pattern(total)
	wrote := async(func() error {
		for off := 0; off < total; off += 32 << 10 {
			if _, err := w.Write(data[off : off+32<<10]); err != nil {
				return err
			}
			if err := w.Flush(); err != nil { // empty the queue: the next Write meets the kernel
				return err
			}
		}
		return nil
	})
	registered := async(func() error {
		h := &funcHandler{}
		for i := 0; i < 300; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s, err := localipc.DialContext(ctx, srv.Addr().String(), localipc.NativeName, localipc.WithHandler(h), localipc.WithReactor(r))
			cancel()
			if err != nil {
				return err
			}
			defer s.Close()
		}
		return nil
	})
	got := make([]byte, total)
	require.NoError(t, peer.SetReadDeadline(time.Now().Add(time.Minute)))
	require.NoError(t, peer.ReadFull(got))
	require.NoError(t, within(t, wrote, time.Minute, "the writer"))
	require.True(t, bytes.Equal(data, got), "the stream arrived intact")
	// The dialled sessions wait in the backlog: nobody accepts them, which
	// is no matter for Register.
	require.NoError(t, within(t, registered, time.Minute, "the registrations"))
}

// TestPeerClosesWhileAWriteIsBlocked: the peer, in this process, closes
// while a Write to it waits for room: a blocking Write returns
// ErrBrokenPipe with the count of what went (less than asked), a callback
// Write waiting for its queue to drain returns ErrClosed once the loop has
// ended the session with VERR_BROKEN_PIPE. TestPeerKilledMidWrite is the
// same with the peer's process killed.
func TestPeerClosesWhileAWriteIsBlocked(t *testing.T) {
	noFDLeak(t)
	big := make([]byte, 64<<20)
	t.Run("blocking", func(t *testing.T) {
		noFDLeak(t)
		client, server := pair(t)
		type result struct {
			n   int
			err error
		}
		wrote := async(func() result { n, err := client.Write(big); return result{n, err} })
		waitParked(t, "(*Session).Write", 1, "IO wait")
		require.NoError(t, server.Close())
		r := within(t, wrote, 10*time.Second, "Write")
		expect(t, r.err, localipc.ErrBrokenPipe, ipcerr.VERR_BROKEN_PIPE, "blocked Write, peer closed")
		assert.Positive(t, r.n, "what went before the peer closed is counted")
		assert.Less(t, r.n, len(big))
	})
	t.Run("callback", func(t *testing.T) {
		noFDLeak(t)
		srv, name := listen(t, 0)
		accepted := acceptAsync(t, srv)
		closed := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := localipc.DialContext(ctx, name, 0, localipc.WithReactor(newReactor(t)),
			localipc.WithHandler(&funcHandler{close: func(_ *localipc.Session, err error) { closed <- err }}))
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		r := within(t, accepted, 10*time.Second, "accept")
		require.NoError(t, r.err)
		wrote := async(func() error {
			if _, err := c.Write(big); err != nil { // queued
				return fmt.Errorf("the first Write failed: %w", err)
			}
			_, err := c.Write(big[:1]) // waits for the queue to drain
			return err
		})
		waitParked(t, "(*evConn).wait", 1, "chan receive")
		require.NoError(t, r.s.Close())
		assert.Equal(t, ipcerr.VERR_BROKEN_PIPE, localipc.Status(within(t, closed, 10*time.Second, "OnClose")), "OnClose")
		expect(t, within(t, wrote, 10*time.Second, "callback Write"), localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "waiting callback Write, peer closed")
	})
}
