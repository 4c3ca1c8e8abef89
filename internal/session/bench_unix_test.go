//go:build unix

package session_test

import (
	"io"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEchoServer is a 64-byte ping-pong whose echoing side is the
// blocking face or a net.Conn on the same kind of socket, with the same
// net.Conn as the client: the difference between the two rows is what the
// blocking face's Read and Write cost above net's.
//
//	go test ./internal/session -run '^$' -bench EchoServer -count 6 | benchstat -col /server -
func BenchmarkEchoServer(b *testing.B) {
	for _, tc := range []struct {
		name  string
		serve func(b *testing.B, fd uintptr) io.ReadWriteCloser
	}{
		{"session", func(b *testing.B, fd uintptr) io.ReadWriteCloser { return newSession(b, fd) }},
		{"net", func(b *testing.B, fd uintptr) io.ReadWriteCloser { return fileConn(b, fd) }},
	} {
		b.Run("server="+tc.name, func(b *testing.B) {
			fa, fb := socketpair(b)
			client := fileConn(b, fa)
			server := tc.serve(b, fb)
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]byte, 64<<10)
				for {
					n, err := server.Read(buf)
					if err != nil {
						return
					}
					if _, err := server.Write(buf[:n]); err != nil {
						return
					}
				}
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
			server.Close()
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
