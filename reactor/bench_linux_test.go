package reactor

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Run with: go test ./reactor -run '^$' -bench . -count 6 | tee new.txt; benchstat new.txt

// BenchmarkPostToRun measures one task's trip: posted from a goroutine, run
// on the loop, and the poster woken again by the task.
func BenchmarkPostToRun(b *testing.B) {
	for _, mode := range allModes {
		b.Run(mode.String(), func(b *testing.B) {
			r := newTestReactor(b, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			done := make(chan struct{}, 1)
			task := func() { done <- struct{}{} }
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Post(task); err != nil {
					b.Fatal(err)
				}
				<-done
			}
		})
	}
}

// BenchmarkPostParallel measures posting throughput with every P posting to
// one loop: the cost of the queue and of coalesced wake-ups.
func BenchmarkPostParallel(b *testing.B) {
	r := newTestReactor(b, WithLoops(1))
	l := r.Loops()[0]
	task := func() {}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Post(task)
		}
	})
	b.StopTimer()
	require.NoError(b, call(b, l, func() {}))
	st := l.Stats()
	b.ReportMetric(float64(st.WakeWrites)/float64(st.Posts), "wakewrites/post")
}

// BenchmarkDispatch measures the loop's own cost per event, without the
// kernel: a batch of 256 events for 256 registered fds goes through dispatch.
func BenchmarkDispatch(b *testing.B) {
	r := newTestReactor(b, WithLoops(1))
	l := r.Loops()[0]
	const n = maxEvents
	batch := make([]event, n)
	var count int
	var fds []int
	require.NoError(b, call(b, l, func() {
		for i := 0; i < n; i++ {
			a, c, err := rawSocketpair()
			require.NoError(b, err)
			fds = append(fds, a, c)
			reg, err := l.Register(uintptr(a), HandlerFunc(func(Events) { count++ }))
			require.NoError(b, err)
			batch[i] = event{tok: reg.tok, ev: Readable}
		}
	}))
	b.Cleanup(func() {
		r.Close()
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	b.ResetTimer()
	// Calling dispatch from the benchmark goroutine is safe here only
	// because the loop is idle and nothing else touches its slots.
	for b.Loop() {
		l.dispatch(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// BenchmarkLoopEcho bounces 64 bytes between two sockets whose both ends are
// served by handlers on one loop: per round trip two readiness events, two
// reads and two writes, and no goroutine switch.
func BenchmarkLoopEcho(b *testing.B) {
	for _, mode := range allModes {
		b.Run(mode.String(), func(b *testing.B) {
			r := newTestReactor(b, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			a, c := socketpair(b)
			b.Cleanup(func() { r.Close(); unix.Close(a); unix.Close(c) })
			msg := make([]byte, 64)
			bufA, bufC := make([]byte, 4096), make([]byte, 4096)
			left := b.N
			done := make(chan struct{})
			require.NoError(b, call(b, l, func() {
				_, err := l.Register(uintptr(a), HandlerFunc(func(ev Events) {
					for {
						n, err := unix.Read(a, bufA)
						if n <= 0 || err != nil {
							return
						}
						unix.Write(a, bufA[:n])
					}
				}))
				require.NoError(b, err)
				_, err = l.Register(uintptr(c), HandlerFunc(func(ev Events) {
					for {
						n, err := unix.Read(c, bufC)
						if n <= 0 || err != nil {
							return
						}
						if left--; left <= 0 {
							close(done)
							return
						}
						unix.Write(c, msg)
					}
				}))
				require.NoError(b, err)
			}))
			b.ResetTimer()
			require.NoError(b, l.Post(func() { unix.Write(c, msg) }))
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
		})
	}
}

// BenchmarkWake is the in-process measurement of how loops wait and the one
// behind how a blocking call waits; the loops' default wait mode is chosen
// with the server in a process of its own instead (the bench module's W1 and
// W3, docs/design.md), as servers are used. A client goroutine sends 64 bytes and waits for
// them to come back; the client is the same in every case (a goroutine parked
// on Go's runtime poller, as net's are). What changes is the server:
//
//	loop/<mode>:      a handler on a loop echoes (the callback face)
//	wakes-goroutine/<mode>: a handler on a loop wakes a goroutine that is
//	                  blocked on a channel, which then reads and echoes
//	                  (a blocking call that parks on the loop)
//	runtime-poller:   a goroutine parked on the runtime poller for its own fd
//	                  reads and echoes (a blocking call that parks where net does)
//	net:              a net.UnixConn server goroutine, for reference
func BenchmarkWake(b *testing.B) {
	for _, mode := range allModes {
		b.Run("loop/"+mode.String(), func(b *testing.B) {
			r := newTestReactor(b, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			client, srv := socketpair(b)
			b.Cleanup(func() { r.Close(); unix.Close(srv) })
			buf := make([]byte, 4096)
			require.NoError(b, call(b, l, func() {
				_, err := l.Register(uintptr(srv), HandlerFunc(func(Events) {
					for {
						n, err := unix.Read(srv, buf)
						if n <= 0 || err != nil {
							return
						}
						unix.Write(srv, buf[:n])
					}
				}))
				require.NoError(b, err)
			}))
			pingPong(b, client)
		})
	}
	for _, mode := range allModes {
		b.Run("wakes-goroutine/"+mode.String(), func(b *testing.B) {
			r := newTestReactor(b, WithLoops(1), WithWaitMode(mode))
			l := r.Loops()[0]
			client, srv := socketpair(b)
			readable := make(chan struct{}, 1)
			require.NoError(b, call(b, l, func() {
				_, err := l.Register(uintptr(srv), HandlerFunc(func(ev Events) {
					select {
					case readable <- struct{}{}:
					default:
					}
				}))
				require.NoError(b, err)
			}))
			stop := make(chan struct{})
			served := make(chan struct{})
			go func() {
				defer close(served)
				buf := make([]byte, 64)
				for {
					got := 0
					for got < len(buf) {
						n, err := unix.Read(srv, buf[got:])
						if errors.Is(err, unix.EAGAIN) {
							select {
							case <-readable:
								continue
							case <-stop:
								return
							}
						}
						if n <= 0 {
							return
						}
						got += n
					}
					unix.Write(srv, buf)
				}
			}()
			b.Cleanup(func() { close(stop); <-served; r.Close(); unix.Close(srv) })
			pingPong(b, client)
		})
	}
	b.Run("runtime-poller", func(b *testing.B) {
		client, srv := socketpair(b)
		f := os.NewFile(uintptr(srv), "server")
		rc, err := f.SyscallConn()
		require.NoError(b, err)
		served := make(chan struct{})
		go func() {
			defer close(served)
			buf := make([]byte, 64)
			for readExactly(rc, buf) == nil {
				writeAll(rc, buf)
			}
		}()
		b.Cleanup(func() { f.Close(); <-served })
		pingPong(b, client)
	})
	b.Run("net", func(b *testing.B) {
		client, srv := socketpair(b)
		f := os.NewFile(uintptr(srv), "server")
		conn, err := net.FileConn(f)
		f.Close()
		require.NoError(b, err)
		served := make(chan struct{})
		go func() {
			defer close(served)
			buf := make([]byte, 64)
			for {
				if _, err := io.ReadFull(conn, buf); err != nil {
					return
				}
				conn.Write(buf)
			}
		}()
		b.Cleanup(func() { conn.Close(); <-served })
		pingPong(b, client)
	})
}

// pingPong is the common client: 64 bytes out, 64 bytes back, b.N times, on
// the runtime poller. It closes fd when done, which ends the server.
func pingPong(b *testing.B, fd int) {
	f := os.NewFile(uintptr(fd), "client")
	defer f.Close()
	rc, err := f.SyscallConn()
	require.NoError(b, err)
	msg := make([]byte, 64)
	in := make([]byte, 64)
	lat := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		require.NoError(b, writeAll(rc, msg))
		require.NoError(b, readExactly(rc, in))
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

func readExactly(rc syscall.RawConn, buf []byte) error {
	got := 0
	var opErr error
	for got < len(buf) && opErr == nil {
		err := rc.Read(func(fd uintptr) bool {
			n, err := unix.Read(int(fd), buf[got:])
			if errors.Is(err, unix.EAGAIN) {
				return false
			}
			if err != nil {
				opErr = err
			} else if n == 0 {
				opErr = errors.New("end of stream")
			}
			got += max(n, 0)
			return true
		})
		if err != nil {
			return err
		}
	}
	return opErr
}

func writeAll(rc syscall.RawConn, buf []byte) error {
	sent := 0
	var opErr error
	for sent < len(buf) && opErr == nil {
		err := rc.Write(func(fd uintptr) bool {
			n, err := unix.Write(int(fd), buf[sent:])
			if errors.Is(err, unix.EAGAIN) {
				return false
			}
			opErr = err
			sent += max(n, 0)
			return true
		})
		if err != nil {
			return err
		}
	}
	return opErr
}

// BenchmarkDeadline compares the two ways a loop can keep deadlines: its own
// timer heap, checked by the loop between waits, and runtime timers whose
// callbacks post a task to the loop. "arm-stop" is the common case of a
// WaitForData or Read that completes before its deadline; "fire" is a
// deadline that expires and must run on the loop.
func BenchmarkDeadline(b *testing.B) {
	for _, mode := range allModes {
		r := newTestReactor(b, WithLoops(1), WithWaitMode(mode))
		l := r.Loops()[0]
		b.Run("heap/arm-stop/"+mode.String(), func(b *testing.B) {
			require.NoError(b, call(b, l, func() {
				for b.Loop() {
					l.AfterFunc(time.Hour, func() {}).Stop()
				}
			}))
		})
		b.Run("runtime/arm-stop/"+mode.String(), func(b *testing.B) {
			require.NoError(b, call(b, l, func() {
				for b.Loop() {
					time.AfterFunc(time.Hour, func() { l.Post(func() {}) }).Stop()
				}
			}))
		})
		const d = 20 * time.Microsecond
		b.Run("heap/fire/"+mode.String(), func(b *testing.B) {
			fired := make(chan struct{}, 1)
			signal := func() { fired <- struct{}{} }
			arm := func() { l.AfterFunc(d, signal) }
			for b.Loop() {
				l.Post(arm)
				<-fired
			}
		})
		b.Run("runtime/fire/"+mode.String(), func(b *testing.B) {
			fired := make(chan struct{}, 1)
			signal := func() { fired <- struct{}{} }
			post := func() { l.Post(signal) }
			arm := func() { time.AfterFunc(d, post) }
			for b.Loop() {
				l.Post(arm)
				<-fired
			}
		})
	}
}
