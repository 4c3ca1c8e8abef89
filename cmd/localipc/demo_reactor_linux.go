package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/localipc/localipc/reactor"
	"golang.org/x/sys/unix"
)

// reactorDemo bounces 64 bytes between the two ends of a socketpair whose
// echo side is a handler on a reactor loop: no goroutine serves it.
func reactorDemo(rounds int) error {
	r, err := reactor.New(reactor.WithLoops(1))
	if err != nil {
		return err
	}
	defer r.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	client, echo := fds[0], fds[1]
	defer unix.Close(client)
	defer unix.Close(echo)
	l := r.Loops()[0]
	buf := make([]byte, 4096)
	registered := make(chan error, 1)
	l.Post(func() {
		_, err := l.Register(uintptr(echo), reactor.HandlerFunc(func(reactor.Events) {
			for {
				n, err := unix.Read(echo, buf)
				if n <= 0 || err != nil {
					return
				}
				unix.Write(echo, buf[:n])
			}
		}))
		registered <- err
	})
	if err := <-registered; err != nil {
		return err
	}
	// The client blocks in poll(2) on its end: this measures the loop's
	// wake-up and dispatch, not a second reactor.
	msg, in := make([]byte, 64), make([]byte, 64)
	lat := make([]time.Duration, rounds)
	pfd := []unix.PollFd{{Fd: int32(client), Events: unix.POLLIN}}
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		if _, err := unix.Write(client, msg); err != nil {
			return err
		}
		for got := 0; got < len(in); {
			n, err := unix.Read(client, in[got:])
			if err == unix.EAGAIN {
				if _, err := unix.Poll(pfd, 5000); err != nil && err != unix.EINTR {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("reactor demo: echo side closed")
			}
			got += n
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	st := l.Stats()
	fmt.Printf("  %-12s %d round trips of 64 B echoed by a loop handler over a socketpair: %.0f/s, p50 %.1f µs, p99 %.1f µs\n",
		"reactor", rounds, float64(rounds)/elapsed.Seconds(), us(lat[len(lat)/2]), us(lat[len(lat)*99/100]))
	fmt.Printf("  %-12s loop 0: %d events, %d iterations, %d tasks, %d wake-ups\n", "", st.Events, st.Iterations, st.Tasks, st.Wakeups)
	return nil
}
