//go:build linux || windows

// Package workload runs the benchmark workloads of the project (W1-W7) the
// same way for every contender: each contender is a server that echoes, or
// sinks, on a Unix socket path; the clients are the same for all of them.
// cmd/localipc (localipc, net and raw) and the bench module (those plus gnet
// and nbio) both drive it.
package workload

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"expvar"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/localipc/localipc"
)

// Contender is one server under test.
type Contender struct {
	Name string
	// Serve starts serving on the socket path and returns a function that
	// stops it. Every session echoes what it receives; with sink, a session
	// instead reads an 8-byte length (host order), then that many bytes, and
	// answers one byte 'K' once it has them all (W2).
	Serve func(path string, sink bool) (stop func() error, err error)
	// Optional contenders run only when named (-contenders): variants for
	// a question of the moment, kept out of the runs of record.
	Optional bool
}

// Sink is the W2 server side, for contenders that have a goroutine per
// session and an io.ReadWriter.
func Sink(rw io.ReadWriter) error {
	var hdr [8]byte
	if _, err := io.ReadFull(rw, hdr[:]); err != nil {
		return err
	}
	want := int64(binary.NativeEndian.Uint64(hdr[:]))
	if _, err := io.CopyN(io.Discard, rw, want); err != nil {
		return err
	}
	_, err := rw.Write([]byte{'K'})
	return err
}

// SinkState is the W2 server side for callback servers: feed it what
// arrives; it reports when to answer.
type SinkState struct {
	hdr  [8]byte
	nhdr int
	left int64
}

// Feed consumes data and reports whether the whole transfer has arrived, at
// which point the server answers 'K'. It consumes everything it is given.
func (s *SinkState) Feed(data []byte) (done bool) {
	for len(data) > 0 && s.nhdr < 8 {
		n := copy(s.hdr[s.nhdr:], data)
		s.nhdr += n
		data = data[n:]
		if s.nhdr == 8 {
			s.left = int64(binary.NativeEndian.Uint64(s.hdr[:]))
			if s.left == 0 {
				return true
			}
		}
	}
	if s.nhdr < 8 || len(data) == 0 {
		return false
	}
	s.left -= int64(len(data))
	return s.left <= 0
}

// goroutinePerSession runs serve on every connection of l, a goroutine each,
// until l closes; the returned stop closes l and waits for them all.
func goroutinePerSession[C io.Closer](accept func() (C, error), closeListener func() error, serve func(C)) func() error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[io.Closer]struct{}{}
	wg.Go(func() {
		for {
			c, err := accept()
			if err != nil {
				return
			}
			mu.Lock()
			open[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				serve(c)
				c.Close()
				mu.Lock()
				delete(open, c)
				mu.Unlock()
			})
		}
	})
	return func() error {
		err := closeListener()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		return err
	}
}

func echoOrSink(rw io.ReadWriter, sink bool) {
	if sink {
		Sink(rw)
		return
	}
	Echo(rw)
}

// Echo writes back what each Read returns until a call fails: the server of
// the goroutine-per-session contenders.
func Echo(rw io.ReadWriter) {
	buf := make([]byte, 64<<10)
	for {
		n, err := rw.Read(buf)
		if err != nil {
			return
		}
		if _, err := rw.Write(buf[:n]); err != nil {
			return
		}
	}
}

func serveLocalipcBlocking(path string, sink bool) (func() error, error) {
	srv, err := localipc.Listen(path, localipc.NativeName)
	if err != nil {
		return nil, err
	}
	return goroutinePerSession(srv.AcceptSession, srv.Close, func(s *localipc.Session) { echoOrSink(s, sink) }), nil
}

// serveLocalipcWait serves the IPRT way: WaitForData, then ReadNB until
// ErrTryAgain, a goroutine per session (W7).
func serveLocalipcWait(path string, sink bool) (func() error, error) {
	srv, err := localipc.Listen(path, localipc.NativeName)
	if err != nil {
		return nil, err
	}
	return goroutinePerSession(srv.AcceptSession, srv.Close, func(s *localipc.Session) {
		if sink {
			Sink(s)
			return
		}
		EchoIPRT(s)
	}), nil
}

// EchoIPRT echoes the IPRT way, WaitForData and then ReadNB until
// ErrTryAgain, until a call fails.
func EchoIPRT(s *localipc.Session) {
	buf := make([]byte, 64<<10)
	for s.WaitForData(localipc.Infinite) == nil {
		for {
			n, err := s.ReadNB(buf)
			if errors.Is(err, localipc.ErrTryAgain) {
				break
			}
			if err != nil {
				return
			}
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

type callbackServer struct{ sink bool }

func (h callbackServer) OnOpen(s *localipc.Session) error {
	if h.sink {
		s.SetValue(&SinkState{})
	}
	return nil
}

func (h callbackServer) OnData(s *localipc.Session, data []byte) int {
	if !h.sink {
		s.Write(data)
	} else if s.Value().(*SinkState).Feed(data) {
		s.Write([]byte{'K'})
	}
	return len(data)
}

func (callbackServer) OnClose(*localipc.Session, error) {}

// callbackServed is the callback contender's server of the moment, which
// expvar shows as "localipc" (EnvDebugAddr). expvar cannot take a name back,
// so the name is published once and reads whichever server is current.
var (
	callbackServed  atomic.Pointer[localipc.Server]
	publishCallback sync.Once
)

func serveLocalipcCallback(path string, sink bool) (func() error, error) {
	return serveCallback(path, sink)
}

func serveCallback(path string, sink bool, opts ...localipc.Option) (func() error, error) {
	srv, err := localipc.Serve(path, localipc.NativeName, callbackServer{sink: sink}, opts...)
	if err != nil {
		return nil, err
	}
	callbackServed.Store(srv)
	publishCallback.Do(func() {
		expvar.Publish("localipc", expvar.Func(func() any {
			return json.RawMessage(callbackServed.Load().StatsVar().String())
		}))
	})
	return func() error {
		// The clients are gone or going: end what is left at once, which
		// Shutdown reports as the context's doing, not as a failure.
		if err := srv.Shutdown(shutdownNow()); !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}, nil
}

// Selected reports whether c runs under the -contenders list only
// (comma-separated names): named there, or, with no list, not Optional.
func Selected(c Contender, only string) bool {
	if only == "" {
		return !c.Optional
	}
	return slices.Contains(strings.Split(only, ","), c.Name)
}
