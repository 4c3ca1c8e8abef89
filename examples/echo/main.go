// Command echo serves an IPRT-named endpoint that sends back what it
// receives, from the reactor's loops: no goroutine per session, however many
// clients connect.
//
//	go run ./examples/echo -name myecho
//	echo hello | go run ./cmd/localipc connect myecho
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/localipc/localipc"
)

// echoHandler writes every byte back. Write from a callback never blocks
// the loop: what the socket does not take is queued, and above the high
// watermark the loop stops reading the session until the peer catches up.
type echoHandler struct{}

func (echoHandler) OnOpen(*localipc.Session) error { return nil }

func (echoHandler) OnData(s *localipc.Session, data []byte) int {
	s.Write(data)
	return len(data)
}

func (echoHandler) OnClose(*localipc.Session, error) {}

func main() {
	name := flag.String("name", "echo", "IPRT name to serve")
	flag.Parse()
	srv, err := localipc.Serve(*name, 0, echoHandler{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Println("serving on", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	grace, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(grace)
}
