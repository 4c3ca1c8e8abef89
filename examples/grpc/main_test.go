package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/localipc/localipc"
)

// bound is the most any test waits for an event that should come at once.
const bound = 20 * time.Second

// testName is a localipc name of this process and test, so that parallel
// runs do not meet.
func testName(t *testing.T) string {
	return fmt.Sprintf("grpc-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
}

type fixture struct {
	gs     *grpc.Server
	lis    *localipc.Server
	served chan struct{} // closed once grpc.Server.Serve has returned
	err    error         // what it returned
	client echoClient
}

// start serves svc on a fresh name and dials it; the cleanup stops both.
func start(t *testing.T, svc EchoServer, opts ...grpc.ServerOption) *fixture {
	t.Helper()
	name := testName(t)
	gs, lis, served, err := listen(name, svc, opts...)
	require.NoError(t, err)
	f := &fixture{gs: gs, lis: lis, served: make(chan struct{})}
	go func() { f.err = <-served; close(f.served) }()
	cc, err := dial(name)
	require.NoError(t, err)
	f.client = echoClient{cc}
	t.Cleanup(func() {
		cc.Close()
		gs.Stop()
		select {
		case <-f.served:
		case <-time.After(bound):
			t.Error("grpc.Server.Serve did not return after Stop")
		}
	})
	return f
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return ctx
}

// receive waits for one value from ch, bounded.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(bound):
		require.FailNow(t, "timed out waiting for "+what)
		panic("unreachable")
	}
}

func TestUnary(t *testing.T) {
	f := start(t, echoService{})
	ctx := testContext(t)
	for _, s := range []string{"hello", "", strings.Repeat("x", 1<<20)} {
		out, err := f.client.Echo(ctx, wrapperspb.String(s))
		require.NoError(t, err)
		assert.Equal(t, s, out.GetValue())
	}
}

func TestStream(t *testing.T) {
	f := start(t, echoService{})
	stream, err := f.client.Chat(testContext(t))
	require.NoError(t, err)
	for i := range 100 {
		want := fmt.Sprintf("message %d", i)
		require.NoError(t, stream.Send(wrapperspb.String(want)))
		in, err := stream.Recv()
		require.NoError(t, err)
		assert.Equal(t, want, in.GetValue())
	}
	require.NoError(t, stream.CloseSend())
	_, err = stream.Recv()
	assert.ErrorIs(t, err, io.EOF, "the server ends the stream once the client has closed its side")
}

// TestThousandStreams holds 1,000 streams open at once over one connection:
// each exchanges a message, waits until all have, then exchanges another and
// ends.
func TestThousandStreams(t *testing.T) {
	const n = 1000
	f := start(t, echoService{})
	ctx := testContext(t)
	var opened, wg sync.WaitGroup
	opened.Add(n)
	allOpen := make(chan struct{})
	go func() { opened.Wait(); close(allOpen) }()
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				stream, err := f.client.Chat(ctx)
				if err != nil {
					opened.Done()
					return err
				}
				exchange := func(msg string) error {
					if err := stream.Send(wrapperspb.String(msg)); err != nil {
						return err
					}
					in, err := stream.Recv()
					if err != nil {
						return err
					}
					if in.GetValue() != msg {
						return fmt.Errorf("stream %d: got %q, want %q", i, in.GetValue(), msg)
					}
					return nil
				}
				err = exchange(fmt.Sprintf("%d first", i))
				opened.Done()
				if err != nil {
					return err
				}
				select {
				case <-allOpen:
				case <-ctx.Done():
					return ctx.Err()
				}
				if err := exchange(fmt.Sprintf("%d second", i)); err != nil {
					return err
				}
				if err := stream.CloseSend(); err != nil {
					return err
				}
				if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
					return fmt.Errorf("stream %d: end: %v", i, err)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestDeadlineExceeded: the client's deadline travels to the server (as
// grpc-timeout), whose handler's context has it and ends with it. Which of
// the two ends the server's context first, its own copy of the deadline or
// the client's RST_STREAM sent when the client's deadline passes, is a race:
// either error is right there.
func TestDeadlineExceeded(t *testing.T) {
	blocked := make(chan time.Time, 1)
	ended := make(chan error, 1)
	f := start(t, echoService{blocked: blocked, blockEnded: ended})
	const timeout = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(testContext(t), timeout)
	defer cancel()
	clientDeadline, _ := ctx.Deadline()
	_, err := f.client.Block(ctx, wrapperspb.String("wait"))
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	serverDeadline := receive(t, blocked, "the call to reach the server")
	require.False(t, serverDeadline.IsZero(), "the server's context has the client's deadline")
	// The server computes its deadline from the remaining time it was sent,
	// on arrival, so it is a little later than the client's: within the
	// timeout says it is the call's, not the test's (bound).
	assert.WithinDuration(t, clientDeadline, serverDeadline, timeout)
	end := receive(t, ended, "the server's handler to end")
	assert.True(t, errors.Is(end, context.DeadlineExceeded) || errors.Is(end, context.Canceled), "%v", end)
}

// TestCancellation: a client that cancels a call in flight ends the
// server's handler too (HTTP/2 RST_STREAM over the session).
func TestCancellation(t *testing.T) {
	blocked := make(chan time.Time, 1)
	ended := make(chan error, 1)
	f := start(t, echoService{blocked: blocked, blockEnded: ended})
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := f.client.Block(ctx, wrapperspb.String("wait"))
		result <- err
	}()
	receive(t, blocked, "the call to reach the server")
	cancel()
	assert.Equal(t, codes.Canceled, status.Code(receive(t, result, "the client's call to return")))
	assert.ErrorIs(t, receive(t, ended, "the server's handler to end"), context.Canceled)
}

// TestGracefulStop: GracefulStop waits for the stream in flight, returns
// once it ends, Serve returns nil, and the name is gone.
func TestGracefulStop(t *testing.T) {
	f := start(t, echoService{})
	stream, err := f.client.Chat(testContext(t))
	require.NoError(t, err)
	require.NoError(t, stream.Send(wrapperspb.String("before")))
	_, err = stream.Recv()
	require.NoError(t, err)

	stopped := make(chan struct{})
	go func() { f.gs.GracefulStop(); close(stopped) }()
	// GracefulStop closes the listener first: the name goes, and with it
	// new clients, while the stream goes on.
	require.Eventually(t, func() bool {
		_, err := os.Stat(f.lis.Addr().String())
		return os.IsNotExist(err)
	}, bound, time.Millisecond, "GracefulStop closes the localipc server")
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned with a stream in flight")
	default:
	}
	require.NoError(t, stream.Send(wrapperspb.String("during")))
	in, err := stream.Recv()
	require.NoError(t, err)
	assert.Equal(t, "during", in.GetValue())

	require.NoError(t, stream.CloseSend())
	_, err = stream.Recv()
	assert.ErrorIs(t, err, io.EOF)
	receive(t, stopped, "GracefulStop to return")
	receive(t, f.served, "Serve to return")
	assert.NoError(t, f.err, "Serve returns nil after GracefulStop")
	_, err = localipc.Dial(testName(t), 0)
	assert.ErrorIs(t, err, localipc.ErrNotFound)
}

func TestRun(t *testing.T) {
	require.NoError(t, run(testName(t)))
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
