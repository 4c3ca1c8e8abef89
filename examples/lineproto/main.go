// Command lineproto serves a tiny line-based key-value protocol from the
// reactor's loops, showing how a callback handler frames a byte stream:
// OnData consumes whole lines only and leaves a partial line for the next
// call, in front of the next bytes.
//
//	SET key value   -> OK
//	GET key         -> VALUE value | NOTFOUND
//	QUIT            -> BYE, then the server closes the session
//
// A line longer than maxLine is refused with ERR and the session closes.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/localipc/localipc"
)

const maxLine = 4096

// store is shared by every session; handlers of different loops run at
// the same time, so it is locked.
type store struct {
	mu   sync.Mutex
	data map[string]string
}

func newStore() *store { return &store{data: map[string]string{}} }

type handler struct{ db *store }

func (h handler) OnOpen(*localipc.Session) error { return nil }

func (h handler) OnClose(*localipc.Session, error) {}

func (h handler) OnData(s *localipc.Session, data []byte) int {
	used := 0
	for {
		i := bytes.IndexByte(data[used:], '\n')
		if i < 0 {
			if len(data)-used > maxLine {
				s.Write([]byte("ERR line too long\n"))
				s.Close()
				return len(data)
			}
			return used // a partial line: offered again with what follows
		}
		line := string(bytes.TrimRight(data[used:used+i], "\r"))
		used += i + 1
		if !h.answer(s, line) {
			s.Close()
			return len(data)
		}
	}
}

// answer replies to one line; false ends the session.
func (h handler) answer(s *localipc.Session, line string) bool {
	cmd, rest, _ := strings.Cut(line, " ")
	switch cmd {
	case "SET":
		key, value, ok := strings.Cut(rest, " ")
		if !ok || key == "" {
			s.Write([]byte("ERR usage: SET key value\n"))
			return true
		}
		h.db.mu.Lock()
		h.db.data[key] = value
		h.db.mu.Unlock()
		s.Write([]byte("OK\n"))
	case "GET":
		h.db.mu.Lock()
		value, ok := h.db.data[rest]
		h.db.mu.Unlock()
		if ok {
			fmt.Fprintf(s, "VALUE %s\n", value)
		} else {
			s.Write([]byte("NOTFOUND\n"))
		}
	case "QUIT":
		s.Write([]byte("BYE\n"))
		return false
	default:
		fmt.Fprintf(s, "ERR unknown command %q\n", cmd)
	}
	return true
}

func main() {
	name := flag.String("name", "lineproto", "IPRT name to serve")
	flag.Parse()
	srv, err := localipc.Serve(*name, 0, handler{db: newStore()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lineproto:", err)
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
