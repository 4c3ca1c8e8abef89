//go:build linux

package workload

import (
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sinkServer serves Sink on one session at a fresh path, in this process;
// a test whose client gives up early (complete false) leaves the sink's
// error unchecked.
func sinkServer(t *testing.T, complete bool) string {
	path := filepath.Join(t.TempDir(), "sink.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- Sink(c)
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
	return path
}

// cpuReadings returns a reader of the server's CPU time that gives the
// readings in turn, or fails with err once they run out.
func cpuReadings(err error, readings ...time.Duration) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		if len(readings) == 0 {
			return 0, err
		}
		d := readings[0]
		readings = readings[1:]
		return d, nil
	}
}

func TestBulkFigures(t *testing.T) {
	const total = 1 << 20
	broken := errors.New("no /proc")
	for _, tc := range []struct {
		name    string
		cpu     func() (time.Duration, error)
		wantCPU float64 // cpu-s/GB; 0: not reported
		wantErr error
	}{
		{"no CPU reader, no CPU figure", nil, 0, nil},
		{"CPU per gigabyte from the two readings", cpuReadings(nil, 2*time.Second, 2*time.Second+total*time.Nanosecond), 1, nil},
		{"a first reading that fails", cpuReadings(broken), 0, broken},
		{"a last reading that fails", cpuReadings(broken, time.Second), 0, broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := sinkServer(t, tc.wantErr == nil)
			f, err := Bulk(path, total, 4<<10, tc.cpu)
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
