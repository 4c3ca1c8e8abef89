//go:build linux

package workload

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// dialSession is the Go client's connection: Go's net, the same for every
// server.
func dialSession(path string) (io.ReadWriteCloser, error) { return net.Dial("unix", path) }

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

// openIdle connects n sessions to path and echoes one byte through each, so
// that the server has accepted and served every one of them (W4): whatever
// a session costs, it costs now.
func openIdle(path string, n int) (release func(), err error) {
	fds, err := connectAll(path, n)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeAll(fds)
		}
	}()
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
	return func() { closeAll(fds) }, nil
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
