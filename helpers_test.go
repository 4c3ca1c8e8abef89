package localipc_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/localipc/localipc/reactor"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A test binary re-executed with childEnv set runs one client worker instead
// of the tests, as IPRT's testcase re-executes itself for its child clients.
const (
	childEnv     = "LOCALIPC_TEST_CHILD"
	childNameEnv = "LOCALIPC_TEST_NAME"
	childFlagEnv = "LOCALIPC_TEST_FLAGS"
)

// childWorkers are the clients a child process can run, by name.
var childWorkers = map[string]func(name string, flags localipc.Flags, inChild bool) error{
	"connection": clientConnection,
	"wait":       clientWait,
	"data":       clientData,
	"perf":       clientPerf,
}

// allWaitModes are the reactor's wait modes, each of which has a
// process-wide reactor (reactor.Shared) that Serve and Dial can ask for.
var allWaitModes = []reactor.WaitMode{reactor.WaitNetpoll, reactor.WaitLocked, reactor.WaitBusy, reactor.WaitAdaptive, reactor.WaitBlock}

func TestMain(m *testing.M) {
	if worker := os.Getenv(childEnv); worker != "" {
		os.Exit(runChild(worker))
	}
	// The examples serve on the process-wide reactors, which are never
	// closed: start them first, so that their loops are not taken for leaks
	// (any other reactor's still are). Where there is no reactor there are
	// none.
	for _, m := range allWaitModes {
		reactor.Shared(m)
	}
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

func runChild(worker string) int {
	run, ok := childWorkers[worker]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown child worker %q\n", worker)
		return 2
	}
	var flags localipc.Flags
	fmt.Sscan(os.Getenv(childFlagEnv), &flags)
	if err := run(os.Getenv(childNameEnv), flags, true); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", worker, err)
		return 1
	}
	return 0
}

// runClient runs a client worker in a goroutine or in a child process,
// bounded by limit either way, and returns what it returned.
func runClient(t *testing.T, inChild bool, worker, name string, flags localipc.Flags, limit time.Duration) error {
	t.Helper()
	if !inChild {
		done := make(chan error, 1)
		go func() { done <- childWorkers[worker](name, flags, false) }()
		select {
		case err := <-done:
			return err
		case <-time.After(limit):
			return fmt.Errorf("client %s did not finish within %v", worker, limit)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+worker, childNameEnv+"="+name, fmt.Sprintf("%s=%d", childFlagEnv, flags))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("child %s: %w: %s", worker, err, out)
	}
	return nil
}

var nameSeq atomic.Int64

var notNameChar = regexp.MustCompile(`[^A-Za-z0-9]+`)

// uniqueName gives every server its own portable name, short enough for
// sun_path, and removes nothing: a test leaves no socket file behind because
// Close removes it, which the tests check.
func uniqueName(t testing.TB) string {
	t.Helper()
	base := notNameChar.ReplaceAllString(t.Name(), "-")
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	return fmt.Sprintf("t%d-%d-%s", os.Getpid(), nameSeq.Add(1), strings.Trim(base, "-"))
}

// listen starts a server on a unique name, closed when the test ends.
func listen(t testing.TB, flags localipc.Flags, opts ...localipc.Option) (*localipc.Server, string) {
	t.Helper()
	name := uniqueName(t)
	srv, err := localipc.Listen(name, flags, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return srv, name
}

// within, async and openFDs are testutil's, under the short names the
// tests of this package use.
func within[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	return testutil.Within(t, ch, d, what)
}

func async[T any](f func() T) <-chan T { return testutil.Async(f) }

func openFDs(t testing.TB) int { t.Helper(); return testutil.OpenFDs(t) }

// noFDLeak checks at cleanup that the test left as many descriptors open as
// it found. Register it first, so that it runs after every other cleanup.
func noFDLeak(t testing.TB) {
	t.Helper()
	before := openFDs(t)
	// os.File.Close returns only after the descriptor is closed (it waits
	// for calls still inside it), so no waiting is needed here.
	t.Cleanup(func() { require.Equal(t, before, openFDs(t), "descriptors leaked") })
}

// execChild starts a client worker in a child process and returns at once;
// the child is killed and reaped when the test ends, whatever happened.
func execChild(t testing.TB, worker, name string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+worker, childNameEnv+"="+name)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	return cmd
}
