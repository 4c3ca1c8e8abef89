// Command localipc serves, reaches and demonstrates localipc endpoints.
//
//	localipc demo                 a server and a client in this process exchange data; prints what it measured
//	localipc serve [--http] NAME  an echo server (or a small net/http server) on NAME until interrupted
//	localipc connect NAME         copies stdin to NAME and NAME to stdout, like socat
//	localipc bench [--full]       the benchmark workloads for localipc, net and raw, one table with ratios
//
// NAME is a portable IPRT name (/tmp/.iprt-localipc-NAME) unless --native
// makes it a socket path.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"

	"github.com/localipc/localipc"
)

func main() {
	// First, before any flag or argument is looked at: a workload server
	// started by "localipc bench" is this binary with its own environment.
	serveBenchChild()
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "demo":
		err = runDemo(ctx, args)
	case "serve":
		err = runServe(ctx, args)
	case "connect":
		err = runConnect(ctx, args, os.Stdin, os.Stdout)
	case "bench":
		err = runBench(args)
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "localipc: unknown command %q\n", cmd)
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "localipc %s: %v (IPRT status %d)\n", os.Args[1], err, localipc.Status(err))
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  localipc demo [flags]                 a server and a client exchange data and report what they measured
  localipc serve [--http] [--native] NAME
  localipc connect [--native] NAME
  localipc bench [--full] [--contenders a,b] [--cpuprofile FILE] [--memprofile FILE]
`)
}

func nameFlags(fs *flag.FlagSet) *bool {
	return fs.Bool("native", false, "NAME is a socket path (RTLOCALIPC_FLAGS_NATIVE_NAME), not a portable name")
}

func oneName(fs *flag.FlagSet, args []string, native *bool) (string, localipc.Flags, error) {
	if err := fs.Parse(args); err != nil {
		return "", 0, err
	}
	if fs.NArg() != 1 {
		return "", 0, errors.New("want exactly one NAME")
	}
	var flags localipc.Flags
	if *native {
		flags |= localipc.NativeName
	}
	return fs.Arg(0), flags, nil
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	native := nameFlags(fs)
	useHTTP := fs.Bool("http", false, "serve HTTP (GET / answers with the peer's credentials) instead of echo")
	name, flags, err := oneName(fs, args, native)
	if err != nil {
		return err
	}
	srv, err := localipc.Listen(name, flags)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", srv.Addr())
	go func() { <-ctx.Done(); srv.Close() }()
	if *useHTTP {
		err = http.Serve(srv, helloHandler(srv))
	} else {
		err = serveEcho(srv)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// helloHandler answers every request with where it was served and what was
// asked.
func helloHandler(srv *localipc.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from localipc on %s, you asked for %s\n", srv.Addr(), r.URL.Path)
	})
}

// serveEcho echoes every session until the server closes: a goroutine per
// session on the blocking face.
func serveEcho(srv *localipc.Server) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		s, err := srv.AcceptSession()
		if err != nil {
			if errors.Is(err, localipc.ErrCancelled) || errors.Is(err, localipc.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Close()
			io.Copy(s, s)
		}()
	}
}

// runConnect copies in to the session and the session to out, like socat:
// the end of in half-closes the session, and the command ends when the
// server ends the stream.
func runConnect(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	native := nameFlags(fs)
	name, flags, err := oneName(fs, args, native)
	if err != nil {
		return err
	}
	s, err := localipc.DialContext(ctx, name, flags)
	if err != nil {
		return err
	}
	defer s.Close()
	go func() { <-ctx.Done(); s.Cancel() }()
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(s, in)
		if err == nil {
			// Like socat: the end of our input is the end of what we send;
			// the answer may still be coming.
			err = s.CloseWrite()
		}
		copied <- err
	}()
	if _, err = io.Copy(out, s); errors.Is(err, localipc.ErrCancelled) {
		return nil
	}
	if err != nil {
		return err
	}
	select {
	case err = <-copied:
		return err
	default:
		return nil // the server ended the session before our input did
	}
}
