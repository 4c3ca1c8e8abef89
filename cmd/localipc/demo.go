package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/localipc/localipc"
)

// runDemo starts a server and a client in this process, moves data through
// them the ways IPRT programs do, and prints what it measured.
func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	rounds := fs.Int("rounds", 20000, "64-byte round trips for the ping-pong")
	bulkMiB := fs.Int("bulk", 256, "MiB sent one way in 64 KiB writes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	name := fmt.Sprintf("localipc-demo-%d", os.Getpid())
	srv, err := localipc.Listen(name, 0)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("localipc demo: one server, one client, this process (pid %d)\n", os.Getpid())
	fmt.Printf("  %-12s %s (IPRT name %q)\n", "socket", srv.Addr(), name)

	accepted := make(chan *localipc.Session, 1)
	acceptErr := make(chan error, 1)
	go func() {
		s, err := srv.AcceptSession()
		if err != nil {
			acceptErr <- err
			return
		}
		accepted <- s
	}()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := localipc.DialContext(dctx, name, 0)
	if err != nil {
		return err
	}
	defer client.Close()
	var server *localipc.Session
	select {
	case server = <-accepted:
	case err := <-acceptErr:
		return err
	case <-dctx.Done():
		return dctx.Err()
	}
	defer server.Close()

	pid, perr := server.PeerPID()
	uid, _ := server.PeerUID()
	gid, _ := server.PeerGID()
	same := "yes"
	if err := server.VerifySameUser(); err != nil {
		same = err.Error()
	}
	if perr != nil {
		fmt.Printf("  %-12s pid unknown (%v), uid %d, gid %d, same user: %s\n", "peer", perr, uid, gid, same)
	} else {
		fmt.Printf("  %-12s pid %d, uid %d, gid %d, same user: %s\n", "peer", pid, uid, gid, same)
	}

	err = client.WaitForData(0)
	fmt.Printf("  %-12s WaitForData(0) on an idle session: %v (IPRT status %d)\n", "wait", err, localipc.Status(err))

	if err := pingPong(client, server, *rounds); err != nil {
		return err
	}
	if err := bulk(client, server, *bulkMiB); err != nil {
		return err
	}
	if err := reactorDemo(*rounds); err != nil {
		return err
	}

	server.Close()
	buf := make([]byte, 1)
	_, err = client.Read(buf)
	fmt.Printf("  %-12s after the server closed, Read: %v (IPRT status %d)\n", "close", err, localipc.Status(err))
	return nil
}

// pingPong: the client writes 64 bytes, the server echoes them with the
// IPRT pattern (WaitForData, then ReadNB), the client reads them back.
func pingPong(client, server *localipc.Session, rounds int) error {
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for {
			if err := server.WaitForData(localipc.Infinite); err != nil {
				done <- ignoreEnd(err)
				return
			}
			got := 0
			for got < len(buf) {
				n, err := server.ReadNB(buf[got:])
				if errors.Is(err, localipc.ErrTryAgain) {
					if err = server.WaitForData(localipc.Infinite); err == nil {
						continue
					}
				}
				if err != nil {
					done <- ignoreEnd(err)
					return
				}
				got += n
			}
			if _, err := server.Write(buf); err != nil {
				done <- err
				return
			}
			if buf[0] == 0xff {
				done <- nil
				return
			}
		}
	}()
	msg, in := make([]byte, 64), make([]byte, 64)
	lat := make([]time.Duration, rounds)
	start := time.Now()
	for i := 0; i < rounds; i++ {
		if i == rounds-1 {
			msg[0] = 0xff
		}
		t0 := time.Now()
		if _, err := client.Write(msg); err != nil {
			return err
		}
		if err := client.ReadFull(in); err != nil {
			return err
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	if err := <-done; err != nil {
		return err
	}
	slices.Sort(lat)
	fmt.Printf("  %-12s %d round trips of 64 B (server: WaitForData + ReadNB): %.0f/s, p50 %.1f µs, p99 %.1f µs\n",
		"ping-pong", rounds, float64(rounds)/elapsed.Seconds(),
		us(lat[len(lat)/2]), us(lat[len(lat)*99/100]))
	return nil
}

func bulk(client, server *localipc.Session, mib int) error {
	total := int64(mib) << 20
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var got int64
		for got < total {
			n, err := server.Read(buf)
			if err != nil {
				done <- err
				return
			}
			got += int64(n)
		}
		done <- nil
	}()
	chunk := make([]byte, 64<<10)
	start := time.Now()
	for sent := int64(0); sent < total; sent += int64(len(chunk)) {
		if _, err := client.Write(chunk); err != nil {
			return err
		}
	}
	if err := <-done; err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Printf("  %-12s %d MiB one way in 64 KiB writes: %.2f GB/s\n", "bulk", mib, float64(total)/elapsed.Seconds()/1e9)
	return nil
}

func ignoreEnd(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, localipc.ErrBrokenPipe) {
		return nil
	}
	return err
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
