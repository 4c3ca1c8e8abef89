package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localipc/localipc"
)

// dialSession is the Go client's connection on Windows: localipc's blocking
// face over the named pipe, the same for every server (Go's net has no
// pipes).
func dialSession(path string) (io.ReadWriteCloser, error) {
	return dialPipe(path)
}

func dialPipe(path string) (*localipc.Session, error) {
	// Dial waits out ERROR_PIPE_BUSY while the server makes instances.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return localipc.DialContext(ctx, path, localipc.NativeName)
}

// dialAll opens n sessions to path.
func dialAll(path string, n int) ([]*localipc.Session, error) {
	all := make([]*localipc.Session, 0, n)
	for len(all) < n {
		s, err := dialPipe(path)
		if err != nil {
			closeSessions(all)
			return nil, fmt.Errorf("session %d: %w", len(all), err)
		}
		all = append(all, s)
	}
	return all, nil
}

func closeSessions(all []*localipc.Session) {
	for _, s := range all {
		s.Close()
	}
}

// Fanout is W3 on Windows: n sessions each doing 64-byte ping-pong for d
// after a warm-up of d/4, a goroutine each (Windows has no epoll for the one
// client loop of Linux's Fanout), the same client for every server. cpu, if
// not nil, reads the server's CPU time.
func Fanout(path string, n int, d time.Duration, cpu func() (time.Duration, error)) (Figures, error) {
	sessions, err := dialAll(path, n)
	if err != nil {
		return nil, err
	}
	var (
		measuring atomic.Bool
		count     atomic.Int64
		wg        sync.WaitGroup
		mu        sync.Mutex
		lat       []time.Duration
		failed    error
	)
	for _, s := range sessions {
		wg.Go(func() {
			msg, in := make([]byte, msgSize), make([]byte, msgSize)
			var mine []time.Duration
			for i := 0; ; i++ {
				t0 := time.Now()
				if _, err := s.Write(msg); err != nil {
					break
				}
				if err := s.ReadFull(in); err != nil {
					break
				}
				if measuring.Load() {
					count.Add(1)
					if i%8 == 0 && len(mine) < 1<<10 {
						mine = append(mine, time.Since(t0))
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	// The clients run for the workload's fixed time; the sessions' Close
	// ends them.
	time.Sleep(d / 4)
	var cpu0, cpu1 time.Duration
	if cpu != nil {
		cpu0, failed = cpu()
	}
	count.Store(0)
	measuring.Store(true)
	time.Sleep(d)
	measuring.Store(false)
	total := count.Load()
	if cpu != nil && failed == nil {
		cpu1, failed = cpu()
	}
	closeSessions(sessions)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	f := Figures{"msgs/s": float64(total) / d.Seconds()}
	latencyFigures(f, lat)
	if cpu != nil && total > 0 {
		f["cpu-s/Mmsg"] = (cpu1 - cpu0).Seconds() / (float64(total) / 1e6)
	}
	return f, nil
}

// openIdle connects n sessions to path and echoes one byte through each, so
// that the server has accepted and served every one of them (W4).
func openIdle(path string, n int) (release func(), err error) {
	sessions, err := dialAll(path, n)
	if err != nil {
		return nil, err
	}
	b := []byte{1}
	for _, s := range sessions {
		if _, err = s.Write(b); err == nil {
			err = s.ReadFull(b)
		}
		if err != nil {
			closeSessions(sessions)
			return nil, fmt.Errorf("no echo: %w", err)
		}
	}
	return func() { closeSessions(sessions) }, nil
}

// Churn is W5: connect, one 1-byte round trip, close, repeated for d.
func Churn(path string, d time.Duration) (Figures, error) {
	b := []byte{1}
	end := time.Now().Add(d)
	count := 0
	for time.Now().Before(end) {
		s, err := dialPipe(path)
		if err != nil {
			return nil, err
		}
		if _, err = s.Write(b); err == nil {
			err = s.ReadFull(b)
		}
		s.Close()
		if err != nil {
			return nil, errors.Join(errors.New("no echo"), err)
		}
		count++
	}
	return Figures{"sessions/s": float64(count) / d.Seconds()}, nil
}
