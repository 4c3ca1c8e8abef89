//go:build linux

// Package bench runs the project's workloads (W1-W7, see
// internal/workload) against localipc, Go's net package, raw syscalls, and
// two event-loop libraries that the root module must not depend on: gnet
// and nbio. It is a module of its own so that they stay out of the root
// module's go.mod.
package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/lesismal/nbio"
	nbiolog "github.com/lesismal/nbio/logging"
	"github.com/panjf2000/gnet/v2"

	"github.com/localipc/localipc/internal/workload"
)

// stopLimit bounds how long a contender may take to stop.
const stopLimit = 10 * time.Second

// Contenders returns the built-in contenders (localipc's faces, net, raw)
// and the peers: gnet v2 and nbio.
func Contenders() []workload.Contender {
	return append(workload.Builtin(),
		workload.Contender{Name: "gnet", Serve: serveGnet},
		workload.Contender{Name: "nbio", Serve: serveNbio},
	)
}

// The workload server answers the harness on its standard output (READY,
// then the goroutine counts), so neither library may log there: both log to
// standard output by default.

// stderrLogger is gnet's logger: warnings and errors to standard error.
type stderrLogger struct{}

func (stderrLogger) Debugf(string, ...any) {}
func (stderrLogger) Infof(string, ...any)  {}
func (stderrLogger) Warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: warning: "+format+"\n", args...)
}
func (stderrLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: error: "+format+"\n", args...)
}
func (stderrLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: fatal: "+format+"\n", args...)
	os.Exit(1)
}

// gnetServer echoes, or sinks (workload.SinkState per connection), in
// OnTraffic on gnet's event loops.
type gnetServer struct {
	gnet.BuiltinEventEngine
	sink   bool
	booted chan gnet.Engine
}

func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.booted <- eng
	return gnet.None
}

func (s *gnetServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if s.sink {
		c.SetContext(&workload.SinkState{})
	}
	return nil, gnet.None
}

func (s *gnetServer) OnTraffic(c gnet.Conn) gnet.Action {
	data, err := c.Next(-1)
	if err != nil {
		return gnet.Close
	}
	if s.sink {
		if c.Context().(*workload.SinkState).Feed(data) {
			if _, err := c.Write([]byte{'K'}); err != nil {
				return gnet.Close
			}
		}
		return gnet.None
	}
	// Write copies what the socket does not take at once into gnet's
	// outbound buffer, so data may be reused after it returns.
	if _, err := c.Write(data); err != nil {
		return gnet.Close
	}
	return gnet.None
}

// serveGnet runs gnet v2 on unix://path with one event loop per CPU
// (multicore).
func serveGnet(path string, sink bool) (func() error, error) {
	os.Remove(path)
	s := &gnetServer{sink: sink, booted: make(chan gnet.Engine, 1)}
	ran := make(chan error, 1)
	go func() {
		ran <- gnet.Run(s, "unix://"+path,
			gnet.WithMulticore(true),
			gnet.WithLogger(stderrLogger{}))
	}()
	var eng gnet.Engine
	select {
	case eng = <-s.booted:
	case err := <-ran:
		os.Remove(path)
		return nil, fmt.Errorf("gnet: %w", err)
	case <-time.After(stopLimit):
		return nil, errors.New("gnet: engine did not boot in time")
	}
	return func() error {
		defer os.Remove(path)
		ctx, cancel := context.WithTimeout(context.Background(), stopLimit)
		defer cancel()
		if err := eng.Stop(ctx); err != nil {
			return fmt.Errorf("gnet: stop: %w", err)
		}
		select {
		case err := <-ran:
			return err
		case <-ctx.Done():
			return errors.New("gnet: Run did not return in time")
		}
	}, nil
}

// serveNbio runs an nbio engine on network "unix" with one poller per CPU
// (as many as gnet's and localipc's loops), echoing, or sinking, in OnData on
// the poller goroutines.
func serveNbio(path string, sink bool) (func() error, error) {
	os.Remove(path)
	nbiolog.Output = os.Stderr
	nbiolog.SetLevel(nbiolog.LevelWarn)
	eng := nbio.NewEngine(nbio.Config{
		Name:    "bench",
		Network: "unix",
		Addrs:   []string{path},
		NPoller: runtime.GOMAXPROCS(0),
	})
	if sink {
		eng.OnOpen(func(c *nbio.Conn) { c.SetSession(&workload.SinkState{}) })
	}
	eng.OnData(func(c *nbio.Conn, data []byte) {
		if sink {
			if c.Session().(*workload.SinkState).Feed(data) {
				c.Write([]byte{'K'})
			}
			return
		}
		// Write keeps what the socket does not take at once in the
		// connection's own write list, so data may be reused.
		c.Write(data)
	})
	if err := eng.Start(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("nbio: %w", err)
	}
	return func() error {
		defer os.Remove(path)
		ctx, cancel := context.WithTimeout(context.Background(), stopLimit)
		defer cancel()
		if err := eng.Shutdown(ctx); err != nil {
			return fmt.Errorf("nbio: shutdown: %w", err)
		}
		return nil
	}, nil
}
