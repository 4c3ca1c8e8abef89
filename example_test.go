//go:build linux

// The examples run on Linux only: Listen and Dial return ErrNotSupported on
// Windows until the named-pipe port lands, and Serve returns it on macOS and
// the BSDs until the kqueue poller does, so their output could not be
// checked there.

package localipc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/reactor"
)

// exampleSeq numbers the names of one process.
var exampleSeq atomic.Int64

// exampleName makes a name of this process and run, so that parallel runs
// of the examples do not take each other's, nor a rerun (-count) the name
// an earlier one published in expvar.
func exampleName(what string) string {
	return fmt.Sprintf("example-%d-%d-%s", os.Getpid(), exampleSeq.Add(1), what)
}

// The IPRT way: a server made by Listen (RTLocalIpcServerCreate), a session
// from AcceptSession (RTLocalIpcServerListen), WaitForData and ReadNB, and
// the IPRT status of each error.
func ExampleListen() {
	name := exampleName("listen")
	srv, err := localipc.Listen(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// The client connects at once: the kernel queues it until the server
	// accepts.
	c, err := localipc.Dial(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := srv.AcceptSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	buf := make([]byte, 64)
	// Nothing sent yet: VINF_TRY_AGAIN, as RTLocalIpcSessionReadNB says it.
	_, err = s.ReadNB(buf)
	fmt.Println("ReadNB:", errors.Is(err, localipc.ErrTryAgain), localipc.Status(err))

	if _, err := c.Write([]byte("hello")); err != nil {
		log.Fatal(err)
	}
	if err := s.WaitForData(5 * time.Second); err != nil {
		log.Fatal(err)
	}
	n, err := s.ReadNB(buf)
	fmt.Printf("ReadNB: %q %v\n", buf[:n], err)

	c.Close()
	// The peer is gone and nothing is left: VERR_BROKEN_PIPE.
	err = s.WaitForData(5 * time.Second)
	fmt.Println("WaitForData:", errors.Is(err, localipc.ErrBrokenPipe), localipc.Status(err))
	// Output:
	// ReadNB: true 52
	// ReadNB: "hello" <nil>
	// WaitForData: true -301
}

// Every error maps to an IPRT status: a name nobody serves is
// VERR_FILE_NOT_FOUND, as RTLocalIpcSessionConnect reports it.
func ExampleStatus() {
	_, err := localipc.Dial(exampleName("nobody"), 0)
	fmt.Println(errors.Is(err, localipc.ErrNotFound), localipc.Status(err))
	// Output: true -102
}

// A Session is a net.Conn, and a Server a net.Listener: bufio, and any code
// written for net, work over them unchanged.
func ExampleDial() {
	name := exampleName("dial")
	srv, err := localipc.Listen(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go func() { // a server that answers every line in capitals
		conn, err := srv.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		lines := bufio.NewScanner(conn)
		for lines.Scan() {
			fmt.Fprintln(conn, strings.ToUpper(lines.Text()))
		}
	}()

	c, err := localipc.Dial(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	replies := bufio.NewReader(c)
	for _, line := range []string{"hello", "world"} {
		fmt.Fprintln(c, line)
		reply, err := replies.ReadString('\n')
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(reply)
	}
	// Output:
	// HELLO
	// WORLD
}

// lineHandler frames lines: OnData consumes each complete line and leaves
// the rest, which the loop offers again with the next bytes.
type lineHandler struct{}

func (lineHandler) OnOpen(*localipc.Session) error { return nil }

func (lineHandler) OnData(s *localipc.Session, data []byte) int {
	used := 0
	for {
		i := bytes.IndexByte(data[used:], '\n')
		if i < 0 {
			return used // a partial line waits for more
		}
		line := data[used : used+i]
		used += i + 1
		// A Write from a callback never blocks the loop: what the socket
		// does not take is queued.
		fmt.Fprintf(s, "%d bytes: %s\n", len(line), line)
	}
}

func (lineHandler) OnClose(*localipc.Session, error) {}

// The callback face: Serve runs a Handler on the reactor's loops, with no
// goroutine per session.
func ExampleServe() {
	name := exampleName("serve")
	srv, err := localipc.Serve(name, 0, lineHandler{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := localipc.Dial(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// Two lines and a half in one write, the rest of the third in another:
	// the handler sees bytes, not messages, and frames them itself.
	io.WriteString(c, "hello\nlocal ipc\nhal")
	io.WriteString(c, "f\n")
	replies := bufio.NewScanner(c)
	for range 3 {
		replies.Scan()
		fmt.Println(replies.Text())
	}
	// Output:
	// 5 bytes: hello
	// 9 bytes: local ipc
	// 4 bytes: half
}

// net/http over a Server: http.Serve takes it as its net.Listener, and a
// client reaches it through a Transport whose DialContext is localipc's.
func ExampleServer_http() {
	name := exampleName("http")
	srv, err := localipc.Listen(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s\n", r.Proto)
	})
	hs := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(srv) }()

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return localipc.DialContext(ctx, name, 0)
		},
	}}
	defer client.CloseIdleConnections()
	// The host is only a label: the Transport's DialContext picks the server.
	resp, err := client.Get("http://localipc/hello")
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Status, ": ", string(body))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("Shutdown:", hs.Shutdown(ctx)) // closes srv
	fmt.Println("Serve:", <-served)
	// Output:
	// 200 OK: hello over HTTP/1.1
	// Shutdown: <nil>
	// Serve: http: Server closed
}

// Shutdown stops a Serve server: no new sessions, then it waits for those
// it serves until the context ends, and ends the rest.
func ExampleServer_Shutdown() {
	name := exampleName("shutdown")
	srv, err := localipc.Serve(name, 0, lineHandler{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := localipc.Dial(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// One exchange, so that the server has the session before it stops.
	fmt.Fprintln(c, "hello")
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(reply)

	// The client stays: Shutdown waits for it until ctx ends, then ends its
	// session and says so with ctx's error.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	fmt.Println("Shutdown:", srv.Shutdown(ctx))
	_, err = localipc.Dial(name, 0)
	fmt.Println("name gone:", errors.Is(err, localipc.ErrNotFound))
	// Output:
	// 5 bytes: hello
	// Shutdown: context deadline exceeded
	// name gone: true
}

// StatsVar publishes a server's counters, and its reactor's, through
// expvar: under /debug/vars of http.DefaultServeMux (importing expvar adds
// the page), or of any mux serving expvar.Handler.
func ExampleServer_StatsVar() {
	// A reactor of its own, so that the figures are this server's alone.
	r, err := reactor.New(reactor.WithLoops(2))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	name := exampleName("statsvar")
	srv, err := localipc.Serve(name, 0, lineHandler{}, localipc.WithReactor(r))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	expvar.Publish("localipc."+name, srv.StatsVar())

	c, err := localipc.Dial(name, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "hello")
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		log.Fatal(err)
	}

	// What /debug/vars shows under that name.
	var v struct {
		Loops int
		Total struct{ Sessions, BytesIn int }
	}
	if err := json.Unmarshal([]byte(expvar.Get("localipc."+name).String()), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d loops, %d session, %d bytes in\n", v.Loops, v.Total.Sessions, v.Total.BytesIn)
	// Output: 2 loops, 1 session, 6 bytes in
}
