//go:build linux

package workload

import (
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// rawConn is one session of the raw server.
type rawConn struct {
	sink    SinkState
	pending []byte // echo bytes the socket did not take yet
}

// serveRaw is the floor: plain non-blocking syscalls on one level-triggered
// epoll loop on a locked thread, no framework, no goroutine per session.
func serveRaw(path string, sink bool) (func() error, error) {
	os.Remove(path)
	lfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Close(lfd)
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(lfd)
		unix.Close(epfd)
		return nil, err
	}
	cleanup := func() { unix.Close(lfd); unix.Close(epfd); unix.Close(evfd); os.Remove(path) }
	if err := unix.Bind(lfd, &unix.SockaddrUnix{Name: path}); err != nil {
		cleanup()
		return nil, err
	}
	if err := unix.Listen(lfd, 65535); err != nil {
		cleanup()
		return nil, err
	}
	for _, fd := range []int{lfd, evfd} {
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			cleanup()
			return nil, err
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		conns := map[int]*rawConn{}
		defer func() {
			for fd := range conns {
				unix.Close(fd)
			}
		}()
		events := make([]unix.EpollEvent, 256)
		buf := make([]byte, 64<<10)
		drop := func(fd int) {
			unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil)
			unix.Close(fd)
			delete(conns, fd)
		}
		for {
			n, err := unix.EpollWait(epfd, events, -1)
			if err != nil && err != unix.EINTR {
				return
			}
			for _, ev := range events[:max(n, 0)] {
				fd := int(ev.Fd)
				switch {
				case fd == evfd:
					return
				case fd == lfd:
					for {
						nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
						if err != nil {
							break
						}
						conns[nfd] = &rawConn{}
						unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, nfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(nfd)})
					}
				default:
					c := conns[fd]
					if c == nil {
						continue
					}
					if ev.Events&unix.EPOLLOUT != 0 && len(c.pending) > 0 {
						m, err := unix.Write(fd, c.pending)
						if err != nil && err != unix.EAGAIN {
							drop(fd)
							continue
						}
						c.pending = c.pending[max(m, 0):]
						if len(c.pending) == 0 {
							unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
						}
						continue
					}
					m, err := unix.Read(fd, buf)
					if err == unix.EAGAIN {
						continue
					}
					if m <= 0 || err != nil {
						drop(fd)
						continue
					}
					out := buf[:m]
					if sink {
						if !c.sink.Feed(out) {
							continue
						}
						out = []byte{'K'}
					}
					w, err := unix.Write(fd, out)
					if err != nil && err != unix.EAGAIN {
						drop(fd)
						continue
					}
					if w = max(w, 0); w < len(out) {
						// Stop reading until the echo is out: the floor keeps
						// backpressure too.
						c.pending = append(c.pending[:0], out[w:]...)
						unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)})
					}
				}
			}
		}
	})
	return func() error {
		unix.Write(evfd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		wg.Wait()
		cleanup()
		return nil
	}, nil
}
