package session_test

import (
	"io"
	"net"
	"os"
	"testing"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/workload"
	"github.com/stretchr/testify/require"
)

// BenchmarkEchoServer is a 64-byte ping-pong whose echoing side is the
// blocking face (Read and Write, or the IPRT way: WaitForData, then ReadNB
// until ErrTryAgain) or a net.Conn on the same kind of socket, with the same
// net.Conn as the client: the differences between the rows are what the
// blocking face's calls cost above net's.
//
//	go test ./internal/session -run '^$' -bench EchoServer -count 6 | benchstat -col /server -
func BenchmarkEchoServer(b *testing.B) {
	for _, tc := range []struct {
		name string
		echo func(b *testing.B, fd uintptr) (serve func(), stop func())
	}{
		{"session", func(b *testing.B, fd uintptr) (func(), func()) {
			s := newSession(b, fd)
			return func() { workload.Echo(s) }, func() { s.Close() }
		}},
		{"session-wait", func(b *testing.B, fd uintptr) (func(), func()) {
			s := newSession(b, fd)
			return func() { workload.EchoIPRT(s) }, func() { s.Close() }
		}},
		{"net", func(b *testing.B, fd uintptr) (func(), func()) {
			c := fileConn(b, fd)
			return func() { workload.Echo(c) }, func() { c.Close() }
		}},
	} {
		b.Run("server="+tc.name, func(b *testing.B) {
			fa, fb := socketpair(b)
			client := fileConn(b, fa)
			serve, stop := tc.echo(b, fb)
			done := make(chan struct{})
			go func() {
				defer close(done)
				serve()
			}()
			msg := make([]byte, 64)
			reply := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := client.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(client, reply); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			require.NoError(b, client.Close())
			<-done
			stop()
		})
	}
}

// fileConn makes a net.Conn of a socket descriptor, which it then owns.
func fileConn(b *testing.B, fd uintptr) net.Conn {
	b.Helper()
	f := os.NewFile(fd, "socket")
	c, err := net.FileConn(f)
	require.NoError(b, err)
	require.NoError(b, f.Close()) // FileConn made a copy of the descriptor
	return c
}

// BenchmarkCallCost is a Write of 64 bytes and the Read that takes them, on
// one goroutine, so that neither call parks: what is left is each face's own
// path to the system calls and back, the blocking face's against net's on
// the same kind of socket.
//
//	go test ./internal/session -run '^$' -bench CallCost -count 10 | benchstat -col /face -
func BenchmarkCallCost(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(b *testing.B, fd uintptr) io.ReadWriteCloser
	}{
		{"session", func(b *testing.B, fd uintptr) io.ReadWriteCloser { return newSession(b, fd) }},
		{"net", func(b *testing.B, fd uintptr) io.ReadWriteCloser { return fileConn(b, fd) }},
	} {
		b.Run("face="+tc.name, func(b *testing.B) {
			fa, fb := socketpair(b)
			w, r := tc.open(b, fa), tc.open(b, fb)
			msg := make([]byte, 64)
			buf := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := w.Write(msg); err != nil {
					b.Fatal(err)
				}
				if n, err := r.Read(buf); err != nil || n != len(msg) {
					b.Fatal(n, err)
				}
			}
			b.StopTimer()
			require.NoError(b, w.Close())
			require.NoError(b, r.Close())
		})
	}
}

// BenchmarkReadNBOnNothing is a ReadNB on an empty socket: the read that
// finds nothing, which the IPRT way of serving makes once a message more
// than Read does (docs/design.md, the blocking face's WaitForData).
//
//	go test ./internal/session -run '^$' -bench ReadNBOnNothing -count 5
func BenchmarkReadNBOnNothing(b *testing.B) {
	_, s := pair(b)
	buf := make([]byte, 64)
	b.ReportAllocs()
	for range b.N {
		if _, err := s.ReadNB(buf); err != ipcerr.ErrTryAgain {
			b.Fatal(err)
		}
	}
}
