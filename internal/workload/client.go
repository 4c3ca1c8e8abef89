//go:build linux

package workload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Figures are one run's measurements, by unit name: "roundtrips/s",
// "p50-µs", "p99-µs", "GB/s", "msgs/s", "cpu-s/Mmsg", "B/session",
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
// warm-up, from a Go client (net.UnixConn), the same for every server.
func PingPong(path string, rounds int) (Figures, error) {
	c, err := net.Dial("unix", path)
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

// Bulk is W2: total bytes one way in writes of chunk bytes to a sink
// server, which answers once it has them all.
func Bulk(path string, total int64, chunk int) (Figures, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf := make([]byte, chunk)
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
	return Figures{"GB/s": float64(total) / time.Since(start).Seconds() / 1e9}, nil
}

// connectAll opens n non-blocking sessions to path, waiting out a full
// backlog the way a blocking connect would.
func connectAll(path string, n int) ([]int, error) {
	fds := make([]int, 0, n)
	sa := &unix.SockaddrUnix{Name: path}
	for len(fds) < n {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			closeAll(fds)
			return nil, err
		}
		for delay := 50 * time.Microsecond; ; delay = min(2*delay, 5*time.Millisecond) {
			err = unix.Connect(fd, sa)
			if err != unix.EAGAIN {
				break
			}
			time.Sleep(delay) // the kernel has no wake-up for a free backlog slot
		}
		if err != nil {
			unix.Close(fd)
			closeAll(fds)
			return nil, fmt.Errorf("session %d: %w", len(fds), err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// Fanout is W3 (and W6, W7, whose servers differ): n sessions each doing
// 64-byte ping-pong for d after a warm-up of d/4, driven by one epoll loop
// on a locked thread, the same client for every server. cpu, if not nil,
// reads the server's CPU time, for the CPU cost per million messages.
func Fanout(path string, n int, d time.Duration, cpu func() (time.Duration, error)) (Figures, error) {
	fds, err := connectAll(path, n)
	if err != nil {
		return nil, err
	}
	defer closeAll(fds)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer unix.Close(epfd)
	type sess struct {
		got  int
		sent time.Time
	}
	sessions := make(map[int]*sess, n)
	msg := make([]byte, msgSize)
	buf := make([]byte, msgSize)
	now := time.Now()
	for _, fd := range fds {
		sessions[fd] = &sess{sent: now}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return nil, err
		}
		if _, err := unix.Write(fd, msg); err != nil {
			return nil, err
		}
	}
	events := make([]unix.EpollEvent, 512)
	warmEnd := time.Now().Add(d / 4)
	end := warmEnd.Add(d)
	var count int64
	var cpu0 time.Duration
	measuring := false
	lat := make([]time.Duration, 0, 1<<16)
	for {
		now := time.Now()
		if !measuring && now.After(warmEnd) {
			measuring = true
			count = 0
			if cpu != nil {
				if cpu0, err = cpu(); err != nil {
					return nil, err
				}
			}
		}
		if now.After(end) {
			break
		}
		k, err := unix.EpollWait(epfd, events, 100)
		if err != nil && err != unix.EINTR {
			return nil, err
		}
		now = time.Now()
		for _, ev := range events[:max(k, 0)] {
			fd := int(ev.Fd)
			s := sessions[fd]
			m, err := unix.Read(fd, buf[:msgSize-s.got])
			if err == unix.EAGAIN {
				continue
			}
			if err != nil || m == 0 {
				return nil, fmt.Errorf("session closed by the server: %v", err)
			}
			if s.got += m; s.got < msgSize {
				continue
			}
			s.got = 0
			if measuring {
				count++
				if count%8 == 0 && len(lat) < cap(lat) {
					lat = append(lat, now.Sub(s.sent))
				}
			}
			s.sent = now
			if _, err := unix.Write(fd, msg); err != nil {
				return nil, err
			}
		}
	}
	f := Figures{"msgs/s": float64(count) / d.Seconds()}
	latencyFigures(f, lat)
	if cpu != nil && count > 0 {
		cpu1, err := cpu()
		if err != nil {
			return nil, err
		}
		f["cpu-s/Mmsg"] = (cpu1 - cpu0).Seconds() / (float64(count) / 1e6)
	}
	return f, nil
}

// retry repeats a blocking system call that a signal interrupted (the Go
// runtime preempts goroutines with signals).
func retry(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != unix.EINTR {
			return n, err
		}
	}
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
	fds, err := connectAll(p.Path, n)
	if err != nil {
		return nil, err
	}
	defer closeAll(fds)
	// One byte through each session, so that the server has accepted and
	// served every one of them: whatever a session costs, it costs now.
	b := []byte{1}
	pfd := make([]unix.PollFd, 1)
	for _, fd := range fds {
		if _, err := unix.Write(fd, b); err != nil {
			return nil, err
		}
		pfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		if _, err := retry(func() (int, error) { return unix.Poll(pfd, 30_000) }); err != nil {
			return nil, err
		}
		if m, err := retry(func() (int, error) { return unix.Read(fd, b) }); m != 1 || err != nil {
			return nil, fmt.Errorf("no echo: %v", err)
		}
	}
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

// Churn is W5: connect, one 1-byte round trip, close, repeated for d.
func Churn(path string, d time.Duration) (Figures, error) {
	sa := &unix.SockaddrUnix{Name: path}
	b := []byte{1}
	end := time.Now().Add(d)
	count := 0
	for time.Now().Before(end) {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		_, err = retry(func() (int, error) { return 0, unix.Connect(fd, sa) })
		if err == nil {
			_, err = retry(func() (int, error) { return unix.Write(fd, b) })
		}
		if err == nil {
			var m int
			m, err = retry(func() (int, error) { return unix.Read(fd, b) })
			if err == nil && m != 1 {
				err = errors.New("no echo")
			}
		}
		unix.Close(fd)
		if err != nil {
			return nil, err
		}
		count++
	}
	return Figures{"sessions/s": float64(count) / d.Seconds()}, nil
}
