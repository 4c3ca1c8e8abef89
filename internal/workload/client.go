//go:build linux || windows

package workload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Figures are one run's measurements, by unit name: "roundtrips/s",
// "p50-µs", "p99-µs", "GB/s", "cpu-s/GB", "msgs/s", "cpu-s/Mmsg", "B/session",
// "goroutines/session", "sessions/s".
type Figures map[string]float64

const msgSize = 64

func latencyFigures(f Figures, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	f["p50-µs"] = float64(lat[len(lat)/2].Nanoseconds()) / 1e3
	f["p99-µs"] = float64(lat[len(lat)*99/100].Nanoseconds()) / 1e3
}

// PingPong is W1: one session, 64 bytes echoed, rounds times after a
// warm-up, from a Go client (dialSession), the same for every server.
func PingPong(path string, rounds int) (Figures, error) {
	c, err := dialSession(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msg, in := make([]byte, msgSize), make([]byte, msgSize)
	round := func() error {
		if _, err := c.Write(msg); err != nil {
			return err
		}
		_, err := io.ReadFull(c, in)
		return err
	}
	for i := 0; i < min(rounds/10, 10_000); i++ {
		if err := round(); err != nil {
			return nil, err
		}
	}
	lat := make([]time.Duration, rounds)
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		if err := round(); err != nil {
			return nil, err
		}
		lat[i] = time.Since(t0)
	}
	f := Figures{"roundtrips/s": float64(rounds) / time.Since(start).Seconds()}
	latencyFigures(f, lat)
	return f, nil
}

// errBadSize is a workload asked for less than one byte, which would send
// nothing (W2's figures would divide by it) or never finish.
var errBadSize = errors.New("workload: sizes must be at least 1")

// Bulk is W2: total bytes one way in writes of chunk bytes to a sink
// server, which answers once it has them all. cpu, if not nil, reads the
// server's CPU time before the first byte and after the answer, for its
// cost per gigabyte ("cpu-s/GB"). That figure moves with where the kernel
// puts the two processes as GB/s does, so servers are compared by it with
// both processes on one CPU (docs/benchmarks.md, "W2 unpinned and on one
// CPU").
func Bulk(path string, total int64, chunk int, cpu func() (time.Duration, error)) (Figures, error) {
	if total < 1 || chunk < 1 {
		return nil, fmt.Errorf("%w: W2 of %d bytes in writes of %d", errBadSize, total, chunk)
	}
	c, err := dialSession(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf := make([]byte, chunk)
	var cpu0 time.Duration
	if cpu != nil {
		if cpu0, err = cpu(); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if _, err := c.Write(binary.NativeEndian.AppendUint64(nil, uint64(total))); err != nil {
		return nil, err
	}
	for sent := int64(0); sent < total; {
		n := int(min(int64(chunk), total-sent))
		if _, err := c.Write(buf[:n]); err != nil {
			return nil, err
		}
		sent += int64(n)
	}
	ack := make([]byte, 1)
	if _, err := io.ReadFull(c, ack); err != nil || ack[0] != 'K' {
		return nil, fmt.Errorf("no acknowledgement: %q %v", ack, err)
	}
	elapsed := time.Since(start)
	f := Figures{"GB/s": float64(total) / elapsed.Seconds() / 1e9}
	if cpu != nil {
		cpu1, err := cpu()
		if err != nil {
			return nil, err
		}
		f["cpu-s/GB"] = (cpu1 - cpu0).Seconds() / (float64(total) / 1e9)
	}
	return f, nil
}

// Idle is W4: n sessions that each echo one byte, then stay idle; the
// figures are the server's peak memory per session above its empty self,
// and its goroutines per session.
func Idle(p *ServerProc, n int) (Figures, error) {
	hwm0, err := p.HWM()
	if err != nil {
		return nil, err
	}
	g0, err := p.Goroutines()
	if err != nil {
		return nil, err
	}
	release, err := openIdle(p.Path, n)
	if err != nil {
		return nil, err
	}
	defer release()
	hwm1, err := p.HWM()
	if err != nil {
		return nil, err
	}
	g1, err := p.Goroutines()
	if err != nil {
		return nil, err
	}
	return Figures{
		"B/session":          float64(hwm1-hwm0) / float64(n),
		"goroutines/session": float64(g1-g0) / float64(n),
	}, nil
}
