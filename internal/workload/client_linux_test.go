//go:build linux

package workload

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sinkServer serves Sink on one session at a fresh path, in this process,
// and counts the bytes it has read; a test whose client gives up early
// (complete false) leaves the sink's error unchecked.
func sinkServer(t *testing.T, complete bool) (string, *atomic.Int64) {
	path := filepath.Join(t.TempDir(), "sink.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	received := new(atomic.Int64)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- Sink(countingConn{c, received})
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case err := <-done:
			if complete {
				assert.NoError(t, err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the sink did not finish")
		}
	})
	return path, received
}

// countingConn adds every byte read to received.
type countingConn struct {
	net.Conn
	received *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received.Add(int64(n))
	return n, err
}

// cpuClock stands in for the server's CPU time: it gives the readings in
// turn, then fails with err, and notes how many bytes the sink had read at
// each call, so a test sees when Bulk takes its readings.
type cpuClock struct {
	readings []time.Duration
	err      error
	received *atomic.Int64
	seen     []int64
}

func (c *cpuClock) read() (time.Duration, error) {
	c.seen = append(c.seen, c.received.Load())
	if len(c.readings) == 0 {
		return 0, c.err
	}
	d := c.readings[0]
	c.readings = c.readings[1:]
	return d, nil
}

func TestBulkFigures(t *testing.T) {
	const total = 1 << 20
	const sent = total + 8 // the length header first
	broken := errors.New("no /proc")
	for _, tc := range []struct {
		name     string
		noCPU    bool
		readings []time.Duration
		readErr  error
		wantCPU  float64 // cpu-s/GB; 0: not reported
		wantSeen []int64 // the sink's count at each reading
		wantErr  error
	}{
		{name: "no CPU reader, no CPU figure", noCPU: true},
		{
			// 3 ns of CPU a byte is 3 s a gigabyte; the inverse, or GiB,
			// or the readings' difference reversed, give another number.
			name:     "CPU per gigabyte from a reading before the first byte and one after the answer",
			readings: []time.Duration{2 * time.Second, 2*time.Second + 3*total*time.Nanosecond},
			wantCPU:  3, wantSeen: []int64{0, sent},
		},
		{name: "a first reading that fails", readErr: broken, wantSeen: []int64{0}, wantErr: broken},
		{name: "a last reading that fails", readings: []time.Duration{time.Second}, readErr: broken, wantSeen: []int64{0, sent}, wantErr: broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, received := sinkServer(t, tc.wantErr == nil)
			clock := &cpuClock{readings: tc.readings, err: tc.readErr, received: received}
			cpu := clock.read
			if tc.noCPU {
				cpu = nil
			}
			f, err := Bulk(path, total, 4<<10, cpu)
			assert.Equal(t, tc.wantSeen, clock.seen)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Nil(t, f)
				return
			}
			require.NoError(t, err)
			assert.Greater(t, f["GB/s"], 0.0)
			if tc.wantCPU == 0 {
				assert.NotContains(t, f, "cpu-s/GB")
				return
			}
			assert.InDelta(t, tc.wantCPU, f["cpu-s/GB"], 1e-9)
		})
	}
}

func TestBulkRejectsSizesBelowOne(t *testing.T) {
	for _, tc := range []struct {
		name         string
		total, chunk int
	}{
		{"nothing to send", 0, 4 << 10},
		{"a negative total", -1, 4 << 10},
		{"writes of nothing", 1 << 20, 0},
		{"writes of a negative size", 1 << 20, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Nothing listens at path: a Bulk that dialed before it checked
			// would report the dial's error instead.
			path := filepath.Join(t.TempDir(), "nobody.sock")
			f, err := Bulk(path, int64(tc.total), tc.chunk, nil)
			require.ErrorIs(t, err, errBadSize)
			assert.EqualError(t, err, fmt.Sprintf("workload: sizes must be at least 1: W2 of %d bytes in writes of %d", tc.total, tc.chunk))
			assert.Nil(t, f)
		})
	}
}
