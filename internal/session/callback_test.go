package session_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/localipc/localipc/internal/ipcerr"
	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallbackLifecycle(t *testing.T) {
	errRefused := errors.New("refused by OnOpen")
	errAborted := errors.New("aborted")
	for _, tc := range []struct {
		name string
		open func(s *session.Session) error
		// run drives the session after OnOpen; h.got has its data.
		run     func(t *testing.T, b *bed, h *handler, s, peer *session.Session)
		early   string // what the peer sends before Attach
		want    []string
		wantErr error // nil: OnClose gets nil
	}{
		{
			name: "the peer closes",
			run: func(t *testing.T, b *bed, h *handler, _, peer *session.Session) {
				send(t, peer, "hello")
				require.NoError(t, peer.Close())
			},
			want: []string{"open", "data", "close"}, wantErr: io.EOF,
		},
		{
			name: "the peer half-closes",
			run: func(t *testing.T, b *bed, h *handler, _, peer *session.Session) {
				skipOnWindows(t, noHalfClose)
				send(t, peer, "hello")
				require.NoError(t, peer.CloseWrite())
			},
			want: []string{"open", "data", "close"}, wantErr: io.EOF,
		},
		{
			name: "Close",
			run: func(t *testing.T, b *bed, h *handler, s, peer *session.Session) {
				send(t, peer, "hello")
				assert.Equal(t, "hello", string(testutil.Within(t, h.got, wait, "OnData")))
				assert.Equal(t, 1, b.stats(0).Sessions)
				require.NoError(t, s.Close())
				isErr(t, s.Close(), ipcerr.ErrClosed, "second Close")
				_, err := peer.Read(make([]byte, 1))
				assert.Equal(t, io.EOF, err, "the peer sees the end")
			},
			want: []string{"open", "data", "close"},
		},
		{
			name:  "OnOpen refuses",
			open:  func(*session.Session) error { return errRefused },
			early: "hello", // yet no OnData
			run: func(t *testing.T, b *bed, h *handler, _, peer *session.Session) {
				_, err := peer.Read(make([]byte, 1))
				// Closed with "hello" unread, which a socket reports as a
				// reset, not as the end of the stream (a pipe as the end).
				isErr(t, err, closedWithUnread, "the peer learns the session is gone")
			},
			want: []string{"open", "close"}, wantErr: errRefused,
		},
		{
			name: "cancelled in OnOpen, then the peer leaves",
			open: func(s *session.Session) error { return s.Cancel() },
			run: func(t *testing.T, b *bed, h *handler, _, peer *session.Session) {
				send(t, peer, "ignored")
				require.NoError(t, peer.Close())
			},
			want: []string{"open", "close"}, wantErr: ipcerr.ErrCancelled,
		},
		{
			name: "Abort",
			run: func(t *testing.T, b *bed, h *handler, s, peer *session.Session) {
				send(t, peer, "hello")
				testutil.Within(t, h.got, wait, "OnData")
				s.Abort(errAborted)
			},
			want: []string{"open", "data", "close"}, wantErr: errAborted,
		},
		{
			name: "the read deadline passes",
			open: func(s *session.Session) error { return s.SetReadDeadline(time.Now().Add(20 * time.Millisecond)) },
			run:  func(*testing.T, *bed, *handler, *session.Session, *session.Session) {},
			want: []string{"open", "close"}, wantErr: os.ErrDeadlineExceeded,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noFDLeak(t)
			b := newBed(t, 1)
			h := newHandler()
			h.open = tc.open
			var early []string
			if tc.early != "" {
				early = append(early, tc.early)
			}
			s, peer := b.attach(0, h, session.DefaultLimits, early...)
			tc.run(t, b, h, s, peer)
			e := h.end(t)
			assert.Same(t, s, e.s)
			if tc.wantErr == nil {
				assert.NoError(t, e.err)
			} else {
				isErr(t, e.err, tc.wantErr)
			}
			isErr(t, e.writeErr, ipcerr.ErrClosed, "Write from OnClose: the session is already closed")
			assert.Equal(t, tc.want, h.events(s))
			assert.Zero(t, b.stats(0).Sessions)
			// And no second OnClose: the bed checks at cleanup, after the
			// reactor has closed.
		})
	}
}

func send(t testing.TB, s *session.Session, msg string) {
	t.Helper()
	_, err := s.Write([]byte(msg))
	require.NoError(t, err)
}

// TestOnDataOffersTheRestAgain: what OnData leaves is offered again, in
// front of the bytes that come next.
func TestOnDataOffersTheRestAgain(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	h := newHandler()
	h.data = func(_ *session.Session, d []byte) int { return wholeFrames(d, nil) }
	_, peer := b.attach(0, h, session.DefaultLimits)
	for _, step := range []struct{ send, offered string }{
		{"\x03ab", "\x03ab"},              // a partial frame: nothing consumed
		{"c\x02d", "\x03abc\x02d"},        // the frame completes, the next one starts
		{"e\x01f\x04", "\x02de\x01f\x04"}, // two frames, a third starts
		{"ghij", "\x04ghij"},
	} {
		send(t, peer, step.send)
		assert.Equal(t, step.offered, string(testutil.Within(t, h.got, wait, "OnData")))
	}
	assert.Empty(t, h.got)
}

// wholeFrames consumes the frames of d that are whole (a length byte, then
// that many bytes), appends their payloads to out if out is not nil, and
// returns how many bytes it consumed.
func wholeFrames(d []byte, out *bytes.Buffer) int {
	used := 0
	for used < len(d) {
		n := int(d[used])
		if len(d)-used < 1+n {
			break // a partial frame: offered again with more bytes
		}
		if out != nil {
			out.Write(d[used+1 : used+1+n])
		}
		used += 1 + n
	}
	return used
}

// TestOnDataOddFrames: a handler that consumes only whole frames of odd
// sizes, from a stream written in random pieces so that frames straddle
// reads, gets exactly the stream.
func TestOnDataOddFrames(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	h := newHandler()
	var got bytes.Buffer // the loop's until OnClose
	h.data = func(_ *session.Session, d []byte) int { return wholeFrames(d, &got) }
	_, peer := b.attach(0, h, session.DefaultLimits)
	var sent, stream []byte
	for len(sent) < 2<<20 {
		n := 1 + 2*rand.IntN(127) // odd, 1..253
		frame := pattern(n, byte(rand.IntN(256)))
		sent = append(sent, frame...)
		stream = append(append(stream, byte(n)), frame...)
	}
	for off := 0; off < len(stream); {
		n := min(1+rand.IntN(5000), len(stream)-off)
		_, err := peer.Write(stream[off : off+n])
		require.NoError(t, err)
		off += n
	}
	require.NoError(t, peer.Close())
	assert.Equal(t, io.EOF, h.end(t).err)
	assert.True(t, bytes.Equal(sent, got.Bytes()), "got %d bytes, sent %d", got.Len(), len(sent))
}

// echo writes back what it receives; from a loop, Write never waits.
func echo(s *session.Session, d []byte) int {
	s.Write(d)
	return len(d)
}

// eventually polls cond, for states that nothing signals, at most wait.
func eventually(t testing.TB, cond func() bool, what string) {
	t.Helper()
	for stop := time.Now().Add(wait); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(stop) {
			require.FailNow(t, "timed out waiting until "+what)
		}
	}
}

// TestBackpressurePausesAndResumes: a peer that sends and never reads fills
// the session's output queue; at the high watermark the loop stops reading
// the session, so what the session holds stays bounded; once the peer
// reads, reading resumes and every byte comes back in order.
func TestBackpressurePausesAndResumes(t *testing.T) {
	noFDLeak(t)
	const low, high = 16 << 10, 64 << 10
	b := newBed(t, 1)
	h := newHandler()
	h.data = echo
	_, peer := b.attach(0, h, limits(low, high))
	// More than the kernel's buffers both ways and the queue can hold.
	sent := pattern(8<<20, 1)
	wrote := testutil.Async(func() error { _, err := peer.Write(sent); return err })
	eventually(t, func() bool { return b.stats(0).Paused == 1 }, "the loop pauses the session")
	blockedIn(t, 1) // and the peer's Write waits for it
	st := b.stats(0)
	// One read of the loop's 64 KiB buffer may go past the mark.
	assert.LessOrEqual(t, st.QueuedMax, high+64<<10, "the queue stayed bounded")
	assert.GreaterOrEqual(t, st.QueuedMax, high)

	echoed := make([]byte, len(sent))
	require.NoError(t, testutil.Within(t, testutil.Async(func() error { return peer.ReadFull(echoed) }), time.Minute, "the echo"))
	require.NoError(t, testutil.Within(t, wrote, wait, "the peer's Write"))
	assert.True(t, bytes.Equal(sent, echoed), "every byte, in order")
	st = b.stats(0)
	assert.Zero(t, st.Paused, "reading resumed")
	assert.EqualValues(t, len(sent), st.BytesIn)
	assert.EqualValues(t, len(sent), st.BytesOut)
}

// TestWriteFromALoopMeetsTheHardCap: a handler writes to another session,
// on its own loop or another, whose peer does not read. The loop never
// waits: past four times the high watermark Write says ErrTryAgain, and the
// loop goes on serving.
func TestWriteFromALoopMeetsTheHardCap(t *testing.T) {
	const high = 16 << 10
	const chunk = 4 << 10
	for _, tc := range []struct {
		name   string
		target int // the loop of the session written to
	}{{"same loop", 0}, {"another loop", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			noFDLeak(t)
			b := newBed(t, 2)
			idle := newHandler()
			target, _ := b.attach(tc.target, idle, limits(high/4, high)) // its peer never reads
			h := newHandler()
			flooded := make(chan error, 1)
			h.data = func(s *session.Session, d []byte) int {
				var err error
				for i := 0; i < 1<<14 && err == nil; i++ {
					_, err = target.Write(make([]byte, chunk))
				}
				flooded <- err
				return echo(s, d)
			}
			_, peer := b.attach(0, h, limits(high/4, high))
			send(t, peer, "flood")
			isErr(t, testutil.Within(t, flooded, wait, "the flooding handler"), ipcerr.ErrTryAgain)
			queued := b.stats(tc.target).QueuedMax
			assert.LessOrEqual(t, queued, 4*high, "the cap")
			assert.Greater(t, queued, 4*high-chunk, "the cap, not less")
			// The loop that flooded still serves its session.
			got := make([]byte, 5)
			require.NoError(t, peer.SetReadDeadline(time.Now().Add(wait)))
			require.NoError(t, peer.ReadFull(got))
			assert.Equal(t, "flood", string(got))
		})
	}
}

// capStep is one Write of TestEveryLoopWriteMeetsTheHardCap.
type capStep struct {
	size  func(queued int) int // how many bytes, given what is queued
	taken bool                 // Write takes them all; else (0, ErrTryAgain)
}

// TestEveryLoopWriteMeetsTheHardCap: a Write from a loop that would take
// the queue past the hard cap (four times the high watermark) fails with
// ErrTryAgain and sends and queues nothing, whatever the queue's level:
// the cap was looked at only from the high watermark on, so one Write of
// 16 MiB into a queue below it was queued whole. Up to the cap a loop's
// Write is taken. A goroutine that is not a loop meets no cap (it waits at
// the high watermark instead). The peer gets exactly the bytes taken.
func TestEveryLoopWriteMeetsTheHardCap(t *testing.T) {
	const low, high = 16 << 10, 64 << 10
	const hardCap = 4 * high
	// room is the Write that fills what the cap leaves, and past it by n;
	// at least a byte, for a queue that went past the cap already.
	room := func(n int) func(int) int { return func(q int) int { return max(hardCap-q+n, 1) } }
	bytes16M := func(int) int { return 16 << 20 }
	up := []capStep{{room(1), false}, {room(0), true}, {room(1), false}}
	for _, tc := range []struct {
		name    string
		offLoop bool // the writes come from a goroutine that is not a loop
		primed  bool // a short queue first, below the high watermark: the kernel is full
		steps   []capStep
	}{
		{name: "16 MiB into an empty queue", steps: []capStep{{bytes16M, false}}},
		{name: "to the cap and past it, from an empty queue", steps: up},
		{name: "to the cap and past it, from a queue below the high watermark", primed: true, steps: up},
		{name: "16 MiB from a goroutine that is not a loop", offLoop: true, steps: []capStep{{bytes16M, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noFDLeak(t)
			b := newBed(t, 1)
			h := newHandler()
			s, peer := b.attach(0, h, limits(low, high))
			var want []byte // every byte taken, in order
			type wrote struct {
				n   int
				err error
			}
			var got []wrote
			write := func(p []byte) wrote {
				n, err := s.Write(p)
				if err == nil {
					want = append(want, p...)
				}
				return wrote{n, err}
			}
			// queued is what the kernel has not taken of what was written:
			// the loop's counter is this session's alone.
			queued := func() int { return len(want) - int(session.Stats(b.r)[0].BytesOut) }
			writes := func() {
				if tc.primed {
					for queued() == 0 {
						assert.NoError(t, write(pattern(4<<10, 100)).err, "a Write that primes the queue")
					}
					assert.Less(t, queued(), high, "the queue, primed")
				}
				for i, st := range tc.steps {
					got = append(got, write(pattern(st.size(queued()), byte(i))))
				}
			}
			if tc.offLoop {
				writes()
			} else {
				b.onLoop(0, writes)
			}
			require.Len(t, got, len(tc.steps))
			for i, st := range tc.steps {
				if st.taken {
					assert.NoError(t, got[i].err, "Write %d", i)
					assert.NotZero(t, got[i].n, "Write %d", i)
				} else {
					isErr(t, got[i].err, ipcerr.ErrTryAgain, "Write %d", i)
					assert.Zero(t, got[i].n, "Write %d", i)
				}
			}
			if !tc.offLoop {
				assert.LessOrEqual(t, b.stats(0).QueuedMax, hardCap, "the cap")
			}
			require.NoError(t, s.Close())
			read := testutil.Within(t, testutil.Async(func() result { b, err := io.ReadAll(peer); return result{b, err} }), time.Minute, "the peer's read")
			require.NoError(t, read.err)
			assert.True(t, bytes.Equal(want, read.b), "the peer got %d bytes, %d taken", len(read.b), len(want))
			assert.NoError(t, h.end(t).err)
		})
	}
}

// fillQueue writes to s from its loop, where Write never waits, until the
// hard cap refuses more: the queue is then far above the high watermark.
func fillQueue(t *testing.T, b *bed, s *session.Session) int {
	t.Helper()
	total := 0
	var err error
	b.onLoop(0, func() {
		for err == nil {
			var n int
			n, err = s.Write(pattern(8<<10, byte(total)))
			total += n
		}
	})
	require.ErrorIs(t, err, ipcerr.ErrTryAgain)
	return total
}

// TestWriterOffTheLoopWaitsAtTheHighWatermark: a goroutine that is not a
// loop, writing to a session whose queue is at the high watermark, waits
// until the queue is back at the low one (or its write deadline passes);
// Flush waits until the queue is in the kernel.
func TestWriterOffTheLoopWaitsAtTheHighWatermark(t *testing.T) {
	const low, high = 16 << 10, 64 << 10
	t.Run("until the peer reads", func(t *testing.T) {
		noFDLeak(t)
		b := newBed(t, 1)
		s, peer := b.attach(0, newHandler(), limits(low, high))
		queued := fillQueue(t, b, s)
		more := pattern(32<<10, 7)
		wrote := testutil.Async(func() error { _, err := s.Write(more); return err })
		blockedIn(t, 1)
		flushed := testutil.Async(s.Flush)
		blockedIn(t, 2)
		got := make([]byte, queued+len(more))
		require.NoError(t, testutil.Within(t, testutil.Async(func() error { return peer.ReadFull(got) }), wait, "the peer's read"))
		require.NoError(t, testutil.Within(t, wrote, wait, "Write"))
		require.NoError(t, testutil.Within(t, flushed, wait, "Flush"))
		assert.Equal(t, more, got[queued:], "the waiting writer's bytes, after the queue")
		assert.NoError(t, s.Flush(), "nothing queued")
	})
	t.Run("until its write deadline", func(t *testing.T) {
		noFDLeak(t)
		b := newBed(t, 1)
		s, _ := b.attach(0, newHandler(), limits(low, high))
		fillQueue(t, b, s)
		const d = 30 * time.Millisecond
		start := time.Now()
		require.NoError(t, s.SetWriteDeadline(start.Add(d)))
		n, err := s.Write([]byte("x"))
		assert.GreaterOrEqual(t, time.Since(start), d, "Write returned early")
		assert.Zero(t, n)
		assertDeadlineError(t, err, "Write")
	})
	t.Run("until Cancel", func(t *testing.T) {
		noFDLeak(t)
		b := newBed(t, 1)
		s, _ := b.attach(0, newHandler(), limits(low, high))
		fillQueue(t, b, s)
		waiting := []call{
			{"Write", func(s *session.Session) error { _, err := s.Write([]byte("x")); return err }},
			{"Flush", (*session.Session).Flush},
			{"CloseWrite", (*session.Session).CloseWrite},
		}
		done := make([]<-chan error, len(waiting))
		for i, c := range waiting {
			done[i] = testutil.Async(func() error { return c.f(s) })
			blockedIn(t, i+1)
		}
		require.NoError(t, s.Cancel())
		for i, c := range waiting {
			isErr(t, testutil.Within(t, done[i], wait, c.name), ipcerr.ErrCancelled, c.name)
		}
		s.Abort(nil) // no Linger to sit out
	})
}

// TestCloseLingers: Close delivers what is queued to a peer that reads; to
// one that does not, it gives up after Linger with ErrTimeout.
func TestCloseLingers(t *testing.T) {
	payload := pattern(4<<20, 3) // far more than the kernel holds
	t.Run("to a reading peer", func(t *testing.T) {
		noFDLeak(t)
		b := newBed(t, 1)
		h := newHandler()
		h.open = func(s *session.Session) error {
			_, err := s.Write(payload)
			s.Close() // from the loop: the queue still goes out first
			return err
		}
		_, peer := b.attach(0, h, session.DefaultLimits)
		got := testutil.Within(t, testutil.Async(func() []byte { b, _ := io.ReadAll(peer); return b }), time.Minute, "the peer's read")
		assert.True(t, bytes.Equal(payload, got), "got %d of %d bytes", len(got), len(payload))
		assert.NoError(t, h.end(t).err)
	})
	t.Run("to a peer that never reads", func(t *testing.T) {
		noFDLeak(t)
		b := newBed(t, 1)
		h := newHandler()
		lim := session.DefaultLimits
		lim.Linger = 50 * time.Millisecond
		var closed time.Time
		h.open = func(s *session.Session) error {
			_, err := s.Write(payload)
			closed = time.Now()
			s.Close()
			return err
		}
		b.attach(0, h, lim)
		e := h.end(t)
		isErr(t, e.err, ipcerr.ErrTimeout)
		assert.GreaterOrEqual(t, e.at.Sub(closed), lim.Linger, "gave up early")
		assert.Zero(t, b.stats(0).Timers, "no timer outlives the session")
	})
}

// TestTheReplyOutlivesThePeersEndOfStream: a handler answers a request
// with more than the kernel holds, and the peer's end of stream comes with
// the request (it is in before the session is attached, so the first
// readable edge brings both). The end of stream ends reading, not the
// session: what Write accepted still goes to a peer that half-closed and
// reads, and OnClose then gets io.EOF. A peer that never reads is given up
// after Linger, and one that is gone ends the flush at once with the
// send's error. A reply past the high watermark pauses reading, so the end
// of stream is read only once the peer has read enough for it to resume.
// A handler that closes after its reply lingers the same way whether or
// not the end of stream came with the request, and OnClose then gets nil.
func TestTheReplyOutlivesThePeersEndOfStream(t *testing.T) {
	const (
		below = 768 << 10 // far more than the kernel holds, below the high watermark
		above = 3 << 20   // past the high watermark (1 MiB), within the hard cap
	)
	const (
		reads  = "reads"  // the peer reads to the end of the stream
		stalls = "stalls" // the peer neither reads nor leaves
		leaves = "leaves" // the peer closes without reading, once the reply is queued
	)
	for _, tc := range []struct {
		name       string
		size       int           // of the reply
		closes     bool          // the handler closes after its reply
		halfCloses bool          // the peer half-closes after its request
		deadline   time.Duration // OnOpen sets a read deadline this far off, and the peer reads only once it has passed
		peer       string
		linger     time.Duration // 0: an hour, which a test that passes never sits out
		want       error         // OnClose's
	}{
		{name: "the peer half-closes and reads", size: below, halfCloses: true, peer: reads, want: io.EOF},
		{name: "the peer half-closes and reads a reply that pauses reading", size: above, halfCloses: true, peer: reads, want: io.EOF},
		{name: "the peer half-closes and reads after the read deadline", size: below, halfCloses: true, deadline: 50 * time.Millisecond, peer: reads, want: io.EOF},
		{name: "the peer half-closes and never reads", size: below, halfCloses: true, peer: stalls, linger: 50 * time.Millisecond, want: ipcerr.ErrTimeout},
		{name: "the peer half-closes, then leaves", size: below, halfCloses: true, peer: leaves, want: ipcerr.ErrBrokenPipe},
		{name: "the peer leaves", size: below, peer: leaves, want: ipcerr.ErrBrokenPipe},
		{name: "Close, and the peer reads", size: below, closes: true, peer: reads},
		{name: "Close, and the peer half-closes and reads", size: below, closes: true, halfCloses: true, peer: reads},
		{name: "Close, and the peer half-closes and never reads", size: below, closes: true, halfCloses: true, peer: stalls, linger: 50 * time.Millisecond, want: ipcerr.ErrTimeout},
		{name: "Close, and the peer half-closes, then leaves", size: below, closes: true, halfCloses: true, peer: leaves, want: ipcerr.ErrBrokenPipe},
		{name: "Close, and the peer leaves", size: below, closes: true, peer: leaves, want: ipcerr.ErrBrokenPipe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.halfCloses {
				skipOnWindows(t, noHalfClose)
			}
			noFDLeak(t)
			reply := pattern(tc.size, 5)
			b := newBed(t, 1)
			h := newHandler()
			lim := session.DefaultLimits
			lim.Linger = time.Hour
			if tc.linger > 0 {
				lim.Linger = tc.linger
			}
			if tc.deadline > 0 {
				h.open = func(s *session.Session) error { return s.SetReadDeadline(time.Now().Add(tc.deadline)) }
			}
			wrote := make(chan time.Time, 1) // when the reply was queued
			replied := false                 // the loop's
			h.data = func(s *session.Session, d []byte) int {
				if !replied {
					replied = true
					_, err := s.Write(reply)
					assert.NoError(t, err, "Write of the reply")
					if tc.closes {
						assert.NoError(t, s.Close())
					}
					wrote <- time.Now()
				}
				return len(d)
			}
			_, peer := b.attachAfter(0, h, lim, func(peer *session.Session) {
				send(t, peer, "request")
				if tc.halfCloses {
					require.NoError(t, peer.CloseWrite())
				}
			})
			queued := testutil.Within(t, wrote, wait, "the reply")
			switch tc.peer {
			case reads:
				if tc.deadline > 0 {
					// What is under test is a deadline passing: there is no
					// event to wait for but the clock. The loop's Call then
					// comes after any timer that fell due.
					time.Sleep(time.Until(queued.Add(tc.deadline)) + 10*time.Millisecond)
					b.stats(0)
				}
				got, err := testutil.Within(t, testutil.Async(func() result { b, err := io.ReadAll(peer); return result{b, err} }), time.Minute, "the peer's read").get()
				require.NoError(t, err)
				assert.True(t, bytes.Equal(reply, got), "got %d of %d bytes", len(got), len(reply))
			case leaves:
				require.NoError(t, peer.Close())
			}
			e := h.end(t)
			if tc.want == io.EOF || tc.want == nil {
				assert.Equal(t, tc.want, e.err)
			} else {
				assert.ErrorIs(t, e.err, tc.want)
			}
			if tc.peer == stalls {
				assert.GreaterOrEqual(t, e.at.Sub(queued), lim.Linger, "gave up early")
			}
			assert.Zero(t, b.stats(0).Timers, "no timer outlives the session")
		})
	}
}

// result is what a read to the end of the stream returned.
type result struct {
	b   []byte
	err error
}

func (r result) get() ([]byte, error) { return r.b, r.err }

// TestAbortEndsAtOnce: Abort drops the queue and ends the session with its
// error, without waiting for Linger.
func TestAbortEndsAtOnce(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	h := newHandler()
	lim := session.DefaultLimits
	lim.Linger = time.Hour
	s, _ := b.attach(0, h, lim)
	fillQueue(t, b, s)
	errGone := errors.New("grace period over")
	s.Abort(errGone)
	isErr(t, h.end(t).err, errGone)
	st := b.stats(0)
	assert.Zero(t, st.Sessions)
	assert.Zero(t, st.Timers)
}

// TestMaxInput: a handler may leave MaxInput bytes unconsumed, not one more.
func TestMaxInput(t *testing.T) {
	noFDLeak(t)
	const limit = 1000
	b := newBed(t, 1)
	h := newHandler()
	h.data = func(*session.Session, []byte) int { return 0 } // waits for a frame that never completes
	lim := session.DefaultLimits
	lim.MaxInput = limit
	_, peer := b.attach(0, h, lim)
	_, err := peer.Write(make([]byte, limit))
	require.NoError(t, err)
	assert.Len(t, testutil.Within(t, h.got, wait, "OnData"), limit)
	assert.Equal(t, 1, b.stats(0).Sessions, "at the limit the session lives")
	send(t, peer, "x")
	isErr(t, h.end(t).err, session.ErrInputLimit)
}

// TestCallbackSessionsHaveNoReads: the handler receives a callback
// session's data, so the reading calls, and the raw descriptor, which
// belongs to the loop, are ErrNotSupported.
func TestCallbackSessionsHaveNoReads(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	s, _ := b.attach(0, newHandler(), session.DefaultLimits)
	buf := make([]byte, 1)
	for _, c := range []call{
		readCall, readFullCall, waitCall(0), waitCall(infinite),
		{"ReadNB", func(s *session.Session) error { _, err := s.ReadNB(buf); return err }},
		{"SyscallConn", func(s *session.Session) error { _, err := s.SyscallConn(); return err }},
	} {
		isErr(t, c.f(s), ipcerr.ErrNotSupported, c.name)
	}
}

func TestCallbackCloseWriteAndPeerCredentials(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	h := newHandler()
	s, peer := b.attach(0, h, session.DefaultLimits)
	if runtime.GOOS == "windows" {
		// The pid and the user as on the blocking face (assertOwnCredentials
		// skips past them there); no half-close, and the session goes on.
		pid, err := s.PeerPID()
		require.NoError(t, err)
		assert.Equal(t, os.Getpid(), pid)
		assert.NoError(t, s.VerifySameUser())
		isErr(t, s.CloseWrite(), ipcerr.ErrNotSupported, noHalfClose)
	} else {
		assertOwnCredentials(t, s)
		send(t, s, "bye")
		require.NoError(t, s.CloseWrite())
		got, err := io.ReadAll(peer)
		require.NoError(t, err)
		assert.Equal(t, "bye", string(got), "what was sent, then the end of the stream")
	}
	// The other direction still works.
	send(t, peer, "reply")
	assert.Equal(t, "reply", string(testutil.Within(t, h.got, wait, "OnData")))
	require.NoError(t, s.Close())
	assert.NoError(t, h.end(t).err)
	_, err := s.PeerPID()
	isErr(t, err, ipcerr.ErrClosed, "PeerPID after the end")
}

// tracker logs what a session.Tracker hears, in order with OnClose.
type tracker struct {
	h *handler
}

func (tr tracker) Attached(s *session.Session) { tr.h.record(s, "attached") }
func (tr tracker) Gone(s *session.Session)     { tr.h.record(s, "gone") }

// The tracker hears Attached, then OnOpen, OnClose and Gone run in order,
// whether the session is attached from another goroutine (Attach) or on its
// loop (AttachHere, which has registered it and run OnOpen when it
// returns); either then serves alike.
func TestTrackerHearsAttachedThenGone(t *testing.T) {
	for _, tc := range []struct {
		name string
		// attach attaches fd, reporting the handler's events at its return
		// when they are fixed by then.
		attach       func(b *bed, fd uintptr, cfg *session.Config, h *handler) (*session.Session, []string, error)
		wantAtReturn []string
	}{
		{"Attach", func(b *bed, fd uintptr, cfg *session.Config, h *handler) (*session.Session, []string, error) {
			s, err := session.Attach(fd, noAddrs, b.r.Loops()[0], cfg)
			return s, nil, err // OnOpen runs on the loop, maybe later
		}, nil},
		{"AttachHere", func(b *bed, fd uintptr, cfg *session.Config, h *handler) (*session.Session, []string, error) {
			var s *session.Session
			var err error
			var atReturn []string
			b.onLoop(0, func() {
				s, err = session.AttachHere(fd, noAddrs, b.r.Loops()[0], cfg)
				atReturn = h.events(s)
			})
			return s, atReturn, err
		}, []string{"attached", "open"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noFDLeak(t)
			b := newBed(t, 1)
			h := newHandler()
			fs, fp := socketpair(t)
			peer := newSession(t, fp)
			s, atReturn, err := tc.attach(b, fs, &session.Config{Handler: h, Limits: session.DefaultLimits, Tracker: tracker{h}}, h)
			require.NoError(t, err)
			b.attached = append(b.attached, attachment{h, s})
			if tc.wantAtReturn != nil {
				assert.Equal(t, tc.wantAtReturn, atReturn)
			}
			require.NoError(t, peer.Close())
			assert.Equal(t, io.EOF, h.end(t).err)
			b.onLoop(0, func() {}) // Gone runs on the loop after OnClose
			assert.Equal(t, []string{"attached", "open", "close", "gone"}, h.events(s))
		})
	}
}

// TestAttachToAClosedLoop: Attach to a loop that is closing fails, closes
// the descriptor, runs no callback and tells the tracker.
func TestAttachToAClosedLoop(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	require.NoError(t, b.r.Close())
	h := newHandler()
	fs, fp := socketpair(t)
	peer := newSession(t, fp)
	s, err := session.Attach(fs, noAddrs, b.r.Loops()[0], &session.Config{Handler: h, Limits: session.DefaultLimits, Tracker: tracker{h}})
	isErr(t, err, ipcerr.ErrClosed)
	assert.Nil(t, s)
	require.Len(t, h.log, 1, "the tracker heard of one session")
	for seen := range h.log {
		assert.Equal(t, []string{"attached", "gone"}, h.events(seen), "and no callback ran")
	}
	isErr(t, peer.WaitForData(wait), ipcerr.ErrBrokenPipe, "the descriptor is closed")
}

// TestOffLoopWriterRacesTheFlush: a goroutine that is not the loop writes
// 8 MiB in odd-sized pieces while the peer reads in small ones, so that the
// queue fills and empties thousands of times and writes that start a queue
// race the loop's flush of the last one (on epoll each start switches the
// watch for writability on, and each flush that empties the queue switches
// it off). Every byte arrives, once, in order.
func TestOffLoopWriterRacesTheFlush(t *testing.T) {
	noFDLeak(t)
	b := newBed(t, 1)
	s, peer := b.attach(0, newHandler(), limits(16<<10, 64<<10))
	want := pattern(8<<20, 3)
	wrote := testutil.Async(func() error {
		for p := want; len(p) > 0; {
			n := min(len(p), 7000)
			if _, err := s.Write(p[:n]); err != nil {
				return err
			}
			p = p[n:]
		}
		return s.Flush()
	})
	got := make([]byte, 0, len(want))
	read := testutil.Async(func() error {
		buf := make([]byte, 1500)
		for len(got) < len(want) {
			n, err := peer.Read(buf)
			if err != nil {
				return err
			}
			got = append(got, buf[:n]...)
		}
		return nil
	})
	require.NoError(t, testutil.Within(t, read, 30*time.Second, "the peer's reads"))
	require.NoError(t, testutil.Within(t, wrote, wait, "the writer"))
	assert.True(t, bytes.Equal(want, got), "the bytes arrived in order, none lost or doubled")
}
