//go:build linux

// Soak: many sessions between two processes, both faces on both sides,
// every byte of every stream checked both ways.

package localipc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localipc/localipc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// soakEnv sets the long variant's session count (LOCALIPC_SOAK=10000); CI
// runs soakCISessions.
const (
	soakEnv         = "LOCALIPC_SOAK"
	soakCISessions  = 300
	soakMessages    = 24 // per session, each way
	soakConcurrency = 16 // transfers under way at once in the client process
	soakNameEnv     = "LOCALIPC_SOAK_SERVE_NAME"
	soakCountEnv    = "LOCALIPC_SOAK_SESSIONS"
)

func init() { childWorkers["soak-clients"] = childSoakClients }

// A session's stream is a 16-byte header (its seed and its payload length)
// and then that many bytes from a ChaCha8 generator keyed by the seed. The
// client sends it in messages of random sizes; the server checks it and
// echoes it; the client checks the echo. A verifier checks one stream.
type verifier struct {
	hdr   [16]byte
	hdrN  int
	gen   *rand.ChaCha8
	total uint64 // payload bytes announced
	got   uint64 // payload bytes checked
	want  []byte
	seed  uint64 // 0: learn it from the header
}

func streamKey(seed uint64) (key [32]byte) {
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], 0x6c6f63616c697063) // "localipc"
	return key
}

// feed checks b, the next bytes of the stream.
func (v *verifier) feed(b []byte) error {
	if v.hdrN < len(v.hdr) {
		n := copy(v.hdr[v.hdrN:], b)
		v.hdrN += n
		b = b[n:]
		if v.hdrN < len(v.hdr) {
			return nil
		}
		seed := binary.LittleEndian.Uint64(v.hdr[:])
		if v.seed != 0 && seed != v.seed {
			return fmt.Errorf("header seed %#x, want %#x", seed, v.seed)
		}
		v.seed = seed
		v.total = binary.LittleEndian.Uint64(v.hdr[8:])
		v.gen = rand.NewChaCha8(streamKey(seed))
	}
	if uint64(len(b)) > v.total-v.got {
		return fmt.Errorf("stream %#x: %d bytes beyond its %d", v.seed, uint64(len(b))-(v.total-v.got), v.total)
	}
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		if cap(v.want) < n {
			v.want = make([]byte, 64<<10)
		}
		want := v.want[:n]
		v.gen.Read(want)
		if !bytes.Equal(want, b[:n]) {
			i := 0
			for want[i] == b[i] {
				i++
			}
			return fmt.Errorf("stream %#x: byte %d of %d lost, duplicated or out of order", v.seed, v.got+uint64(i), v.total)
		}
		v.got += uint64(n)
		b = b[n:]
	}
	return nil
}

func (v *verifier) complete() bool { return v.hdrN == len(v.hdr) && v.got == v.total }

func (v *verifier) check(err error) error {
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return err
	case !v.complete():
		return fmt.Errorf("stream %#x ended after %d of %d bytes (header %d of 16)", v.seed, v.got, v.total, v.hdrN)
	}
	return nil
}

// soakSizes draws a session's message sizes: mostly up to 256 bytes, some
// up to 64 KiB, one in a hundred up to 1 MiB.
func soakSizes(seed uint64, n int) (sizes []int, total uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		var size int
		switch p := rng.IntN(100); {
		case p < 90:
			size = 1 + rng.IntN(256)
		case p < 99:
			size = 1 + rng.IntN(64<<10)
		default:
			size = 1 + rng.IntN(1<<20)
		}
		if i == 0 && seed%50 == 0 {
			size = 1 << 20 // a few streams open with the largest message
		}
		sizes = append(sizes, size)
		total += uint64(size)
	}
	return sizes, total
}

// sendStream writes session seed's stream: its header, then its messages,
// each after room(sent, size) returns.
func sendStream(s *localipc.Session, seed uint64, room func(sent uint64, size int)) error {
	sizes, total := soakSizes(seed, soakMessages)
	hdr := make([]byte, 16)
	binary.LittleEndian.PutUint64(hdr, seed)
	binary.LittleEndian.PutUint64(hdr[8:], total)
	if _, err := s.Write(hdr); err != nil {
		return err
	}
	gen := rand.NewChaCha8(streamKey(seed))
	var sent uint64
	for _, size := range sizes {
		room(sent, size)
		sent += uint64(size)
		msg := make([]byte, size)
		gen.Read(msg)
		if _, err := s.Write(msg); err != nil {
			return err
		}
	}
	return nil
}

// soakHandler is the callback face of either side: it checks what arrives
// and, on the server, echoes it. done gets the stream's verdict once.
type soakHandler struct {
	echo bool
	seed uint64 // client side: the stream it sent; 0 on the server
	done func(s *localipc.Session, bytes uint64, err error)

	// Client side: how much of the echo has come back, for soakWindow.
	mu      sync.Mutex
	cond    *sync.Cond
	echoed  uint64
	stopped bool
}

// soakWindow is how far a callback client's stream may run ahead of its
// echo. A callback session stops reading while its output queue is at the
// high watermark (1 MiB by default), so against an echo a writer that ran
// further ahead would wait for a queue that the peer cannot drain, since
// the peer waits in its turn for us to read: flow control is the
// application's, as for any protocol over a callback session.
const soakWindow = 768 << 10

// room waits until the stream's next size bytes fit in the window.
func (h *soakHandler) room(sent uint64, size int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for !h.stopped && sent > h.echoed && sent-h.echoed+uint64(size) > soakWindow {
		h.cond.Wait()
	}
}

func (h *soakHandler) progress(echoed uint64, stopped bool) {
	if h.echo {
		return
	}
	h.mu.Lock()
	h.echoed, h.stopped = echoed, h.stopped || stopped
	h.mu.Unlock()
	h.cond.Broadcast()
}

func (h *soakHandler) OnOpen(s *localipc.Session) error {
	s.SetValue(&verifier{seed: h.seed})
	return nil
}

func (h *soakHandler) OnData(s *localipc.Session, b []byte) int {
	v := s.Value().(*verifier)
	err := v.feed(b)
	if err == nil && h.echo {
		_, err = s.Write(b)
	}
	h.progress(v.got, false)
	if err != nil {
		s.Abort(err)
	} else if !h.echo && v.complete() {
		s.Close() // the client has its whole echo
	}
	return len(b)
}

func (h *soakHandler) OnClose(s *localipc.Session, err error) {
	v := s.Value().(*verifier)
	if err == nil && !v.complete() {
		err = errors.New("closed before the stream was complete")
	}
	h.progress(v.got, true)
	h.done(s, v.got, v.check(err))
}

// childSoakClients dials the sessions (alternately to the Listen and the
// Serve server, each pair alternately on the blocking and the callback
// face), holds them all, then runs their streams soakConcurrency at a
// time. It prints WARM after a tenth of them and DONE with the figures.
func childSoakClients(name string, flags localipc.Flags, _ bool) error {
	n, err := strconv.Atoi(os.Getenv(soakCountEnv))
	if err != nil {
		return err
	}
	names := []string{name, os.Getenv(soakNameEnv)}
	type result struct {
		bytes uint64
		err   error
	}
	results := make([]chan result, n)
	sessions := make([]*localipc.Session, n)
	handlers := make([]*soakHandler, n)
	for i := range sessions {
		results[i] = make(chan result, 1)
		seed := uint64(i + 1)
		var opts []localipc.Option
		if (i/2)%2 == 1 {
			h := &soakHandler{seed: seed, done: func(_ *localipc.Session, b uint64, err error) {
				results[i] <- result{b, err}
			}}
			h.cond = sync.NewCond(&h.mu)
			handlers[i] = h
			opts = append(opts, localipc.WithHandler(h))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		sessions[i], err = localipc.DialContext(ctx, names[i%2], flags, opts...)
		cancel()
		if err != nil {
			return fmt.Errorf("dial %d: %w", i, err)
		}
	}
	fmt.Println("OPEN", n)
	var sent, failures uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	finished := 0
	for w := 0; w < soakConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, seed := sessions[i], uint64(i+1)
				room := func(uint64, int) {} // a blocking client reads while it writes
				if handlers[i] != nil {
					room = handlers[i].room
				}
				wrote := async(func() error { return sendStream(s, seed, room) })
				var r result
				if (i/2)%2 == 0 {
					v := &verifier{seed: seed}
					buf := make([]byte, 64<<10)
					var err error
					for err == nil && !v.complete() {
						var k int
						k, err = s.Read(buf)
						if err == nil {
							err = v.feed(buf[:k])
						}
					}
					r = result{v.got, v.check(err)}
					s.Close()
				} else {
					r = <-results[i]
				}
				if err := <-wrote; err != nil && r.err == nil {
					r.err = fmt.Errorf("write: %w", err)
				}
				mu.Lock()
				sent += r.bytes
				finished++
				if r.err != nil {
					failures++
					fmt.Printf("FAIL session %d: %v\n", i, r.err)
				}
				if finished == n/10 {
					fmt.Println("WARM")
				}
				mu.Unlock()
			}
		}()
	}
	for i := range sessions {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("DONE sessions=%d bytes=%d failures=%d\n", n, sent, failures)
	return nil
}

// rssKiB is this process's resident set (VmRSS), after a collection that
// returns what is free to the system: what the process keeps, not what the
// collector has not come to yet.
func rssKiB(t *testing.T) int {
	t.Helper()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			require.NoError(t, err)
			return kb
		}
	}
	require.FailNow(t, "no VmRSS in /proc/self/status")
	return 0
}

type soakResult struct {
	face  string
	bytes uint64
	err   error
}

// TestSoak runs soakCISessions sessions (LOCALIPC_SOAK=N for N) between
// this process, serving half on the blocking face (Listen, a goroutine per
// session) and half on the callback face (Serve), and a child process
// whose clients use both faces too. Each session's stream, of messages from
// 1 byte to 1 MiB, is checked byte for byte by the server and its echo by
// the client: no byte lost, duplicated or reordered. The server's RSS after
// a tenth of the streams and at the end is logged.
func TestSoak(t *testing.T) {
	n := soakCISessions
	limit := 2 * time.Minute
	if v := os.Getenv(soakEnv); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err, "%s must be a session count", soakEnv)
		limit = 30 * time.Minute
	}
	noFDLeak(t)
	results := make(chan soakResult, n)
	srv, name := listen(t, 0)
	var served sync.WaitGroup
	served.Add(1)
	go func() {
		defer served.Done()
		for {
			s, err := srv.AcceptSession()
			if err != nil {
				return
			}
			served.Add(1)
			go func() {
				defer served.Done()
				defer s.Close()
				v := &verifier{}
				buf := make([]byte, 64<<10)
				for {
					k, err := s.Read(buf)
					if err == nil {
						err = v.feed(buf[:k])
					}
					if err == nil {
						_, err = s.Write(buf[:k])
					}
					if err != nil {
						results <- soakResult{"Listen", v.got, v.check(err)}
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { srv.Close(); served.Wait() })
	_, serveName := serve(t, &soakHandler{echo: true, done: func(_ *localipc.Session, b uint64, err error) {
		results <- soakResult{"Serve", b, err}
	}}, localipc.WithReactor(newReactor(t)))

	start := time.Now()
	clients := startWorkerFor(t, limit, name, "soak-clients", soakNameEnv+"="+serveName, soakCountEnv+"="+strconv.Itoa(n))
	clients.expectLine(t, "OPEN", limit)
	open := rssKiB(t)
	var warm int
	var done string
	for done == "" {
		line := within(t, clients.lines, limit, "the child's streams")
		switch {
		case line == "":
			require.FailNow(t, "the client process ended without saying DONE")
		case line == "WARM":
			warm = rssKiB(t)
		case strings.HasPrefix(line, "DONE"):
			done = line
		default:
			t.Errorf("child: %s", line)
		}
	}
	// The child exits after DONE; a race it detected makes it fail.
	exited := async(clients.cmd.Wait)
	require.NoError(t, within(t, exited, limit, "the client process to exit"), "the client process")
	var sessions, bytesClient, failures uint64
	_, err := fmt.Sscanf(done, "DONE sessions=%d bytes=%d failures=%d", &sessions, &bytesClient, &failures)
	require.NoError(t, err, "child said %q", done)
	assert.Zero(t, failures, "streams the clients found wrong")

	var bytesServer uint64
	faces := map[string]int{}
	for i := 0; i < n; i++ {
		r := within(t, results, limit, "the server's verdicts")
		assert.NoError(t, r.err, "%s session", r.face)
		bytesServer += r.bytes
		faces[r.face]++
	}
	end := rssKiB(t)
	assert.Equal(t, bytesClient, bytesServer, "the payload the server checked is the echo the clients checked")
	assert.Equal(t, map[string]int{"Listen": n / 2, "Serve": n - n/2}, faces)
	t.Logf("%d sessions (%v), %d payload bytes each way, checked on both sides, failures %d, in %v; server RSS %d KiB with every session open, %d KiB after a tenth of the streams, %d KiB at the end",
		sessions, faces, bytesServer, failures, time.Since(start).Round(time.Millisecond), open, warm, end)
}
