package reactor

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/localipc/localipc/internal/testutil"
	"github.com/localipc/localipc/internal/winapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// Loops on completion ports, over named pipes: what the contract test cannot
// show because it needs a running loop (draining slots, shutdown, wake-ups
// of a loop blocked in GetQueuedCompletionStatusEx).

func startReactor(t *testing.T, opts ...Option) *Reactor {
	t.Helper()
	r, err := New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func TestOverlappedEntryLayout(t *testing.T) {
	var e winapi.OverlappedEntry
	w := unsafe.Sizeof(uintptr(0))
	assert.Equal(t, 4*w, unsafe.Sizeof(e), "OVERLAPPED_ENTRY is 32 bytes on 64-bit, 16 on 386")
	assert.Equal(t, w, unsafe.Offsetof(e.Overlapped))
	assert.Equal(t, 2*w, unsafe.Offsetof(e.Internal))
	assert.Equal(t, 3*w, unsafe.Offsetof(e.NumberOfBytesTransferred))
	var op iocpOp
	assert.Zero(t, unsafe.Offsetof(op.o), "the OVERLAPPED opens the op record")
}

// pipeReader is a registration's owner that reads everything that arrives,
// arms again and hands what it read to the test.
type pipeReader struct {
	h    windows.Handle
	loop *Loop
	reg  Registration // set before the first event: Register runs on the loop
	data chan []byte
	evs  chan Events
}

func newPipeReader(l *Loop, h uintptr) *pipeReader {
	return &pipeReader{h: windows.Handle(h), loop: l, data: make(chan []byte, 64), evs: make(chan Events, 1024)}
}

func (p *pipeReader) OnEvents(ev Events) {
	select {
	case p.evs <- ev:
	default:
		panic("pipeReader: more events than the test reads")
	}
	if ev&Readable == 0 || ev&Shutdown != 0 {
		return
	}
	b, err := readAvailable(p.h)
	if err != nil && ev&HangUp == 0 {
		panic(err)
	}
	if len(b) > 0 {
		p.data <- b
	}
	if ev&HangUp == 0 {
		p.loop.Arm(p.reg, Readable)
	}
}

func (p *pipeReader) register(t *testing.T) {
	t.Helper()
	var err error
	require.NoError(t, p.loop.Call(func() { p.reg, err = p.loop.Register(uintptr(p.h), p) }))
	require.NoError(t, err)
}

// readExactly collects what the reader hands over until it has n bytes.
func (p *pipeReader) readExactly(t *testing.T, n int) []byte {
	t.Helper()
	var out []byte
	for len(out) < n {
		out = append(out, testutil.Within(t, p.data, 5*time.Second, "data on the loop")...)
	}
	return out
}

func TestPipeEventsThroughALoop(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			r := startReactor(t, WithLoops(2), WithWaitMode(mode))
			h, peer := contractPair(t)
			pr := newPipeReader(r.Loops()[1], h)
			pr.register(t)
			assert.Equal(t, Writable, testutil.Within(t, pr.evs, 5*time.Second, "the first event"))
			// Each message waits for the last: every one needs a re-armed
			// zero-byte read to be seen.
			for i := range 200 {
				msg := []byte(fmt.Sprintf("message %d;", i))
				peer.write(t, msg)
				require.Equal(t, msg, pr.readExactly(t, len(msg)))
			}
			peer.close(t)
			for {
				ev := testutil.Within(t, pr.evs, 5*time.Second, "the hang-up")
				if ev&HangUp != 0 {
					assert.Equal(t, HangUp|Readable, ev)
					break
				}
			}
		})
	}
}

func TestUnregisterWithAReadPendingDrainsThenReusesTheSlot(t *testing.T) {
	r := startReactor(t, WithLoops(1))
	l := r.Loops()[0]
	h, peer := contractPair(t)
	old := newPipeReader(l, h)
	old.register(t)
	testutil.Within(t, old.evs, 5*time.Second, "the first event")

	// The zero-byte read is pending: the slot drains until its aborted
	// completion is dequeued, and only then gets its next generation.
	var draining, slotDraining bool
	require.NoError(t, l.Call(func() {
		assert.NoError(t, l.Unregister(old.reg))
		draining = l.draining == 1
		slotDraining = l.slots[old.reg.tok.slot].draining
	}))
	assert.True(t, draining, "a pending read keeps the registration draining")
	assert.True(t, slotDraining)
	require.Eventually(t, func() bool {
		var n int
		l.Call(func() { n = l.draining })
		return n == 0
	}, 5*time.Second, 5*time.Millisecond, "the slot is released")

	// The same handle again, now on the port with its first key: the new
	// registration gets the events, the old owner none.
	renewed := newPipeReader(l, h)
	renewed.register(t)
	assert.Equal(t, old.reg.tok.slot, renewed.reg.tok.slot, "the released slot is reused")
	assert.Equal(t, old.reg.tok.gen+1, renewed.reg.tok.gen)
	assert.Equal(t, Writable, testutil.Within(t, renewed.evs, 5*time.Second, "the new registration's first event"))
	peer.write(t, []byte("to the new owner"))
	assert.Equal(t, []byte("to the new owner"), renewed.readExactly(t, 16))
	assert.Empty(t, old.evs, "events after Unregister")
	require.NoError(t, l.Call(func() { assert.ErrorIs(t, l.Unregister(old.reg), ErrClosed, "a stale Unregister") }))
}

func TestCloseWaitsForDrainingAndShutsDownLiveRegistrations(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) {
			r, err := New(WithLoops(2), WithWaitMode(mode))
			require.NoError(t, err)
			const pairs = 40
			readers := make([]*pipeReader, pairs)
			for i := range readers {
				h, _ := contractPair(t)
				readers[i] = newPipeReader(r.Loops()[i%2], h)
				readers[i].register(t)
			}
			// Half of them unregister just before Close: their reads are
			// still being cancelled when the loops shut down.
			for _, pr := range readers[:pairs/2] {
				require.NoError(t, pr.loop.Call(func() { assert.NoError(t, pr.loop.Unregister(pr.reg)) }))
			}
			closed := testutil.Async(r.Close)
			require.NoError(t, testutil.Within(t, closed, 5*time.Second, "Close"))
			for i, pr := range readers {
				var last Events
				for len(pr.evs) > 0 {
					last = <-pr.evs
				}
				if i < pairs/2 {
					assert.NotEqual(t, Shutdown, last, "an unregistered owner got Shutdown")
				} else {
					assert.Equal(t, Shutdown, last, "a live owner's last event")
				}
			}
			for _, l := range r.Loops() {
				assert.Zero(t, l.draining, "a loop closed with draining slots")
			}
		})
	}
}

func TestManyPipesEachGetTheirOwnData(t *testing.T) {
	r := startReactor(t, WithLoops(3))
	const pairs = 150
	readers := make([]*pipeReader, pairs)
	peers := make([]contractEnd, pairs)
	for i := range readers {
		h, peer := contractPair(t)
		readers[i], peers[i] = newPipeReader(r.Least(), h), peer
		readers[i].loop.AddLoad(1)
		readers[i].register(t)
	}
	var wg sync.WaitGroup
	for i := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			peers[i].write(t, bytes.Repeat([]byte{byte(i)}, 1+i%97))
		}()
	}
	wg.Wait()
	for i, pr := range readers {
		assert.Equal(t, bytes.Repeat([]byte{byte(i)}, 1+i%97), pr.readExactly(t, 1+i%97), "pipe %d", i)
	}
}

func TestPostsWakeALoopBlockedInTheCompletionPort(t *testing.T) {
	r := startReactor(t, WithLoops(1))
	l := r.Loops()[0]
	time.Sleep(20 * time.Millisecond) // the loop blocks in GetQueuedCompletionStatusEx
	const posters, each = 8, 500
	var mu sync.Mutex
	ran := make(map[int]int)
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				assert.NoError(t, l.Post(func() { mu.Lock(); ran[p*each+i]++; mu.Unlock() }))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, l.Call(func() {}))
	mu.Lock()
	assert.Len(t, ran, posters*each)
	for k, n := range ran {
		if n != 1 {
			t.Errorf("task %d ran %d times", k, n)
		}
	}
	mu.Unlock()
	st := l.Stats()
	assert.LessOrEqual(t, st.WakeWrites, st.Posts, "wake-ups are coalesced")
	assert.NotZero(t, st.Wakeups)

	// A timer bounds the blocking wait: it fires, and never early.
	start := time.Now()
	fired := make(chan time.Duration, 1)
	require.NoError(t, l.Call(func() { l.AfterFunc(30*time.Millisecond, func() { fired <- time.Since(start) }) }))
	assert.GreaterOrEqual(t, testutil.Within(t, fired, 5*time.Second, "the timer"), 30*time.Millisecond)
}

// A zero-byte read posted while data is already there finishes at once; with
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS no packet follows, so the poller
// reports it itself, once.
func TestZeroByteReadThatFinishesAtOnce(t *testing.T) {
	tok := token{slot: 1, gen: 1}
	t.Run("data before add", func(t *testing.T) {
		p := contractPoller(t).(*iocpPoller)
		h, peer := contractPair(t)
		peer.write(t, []byte("early"))
		require.NoError(t, p.add(h, tok))
		t.Logf("zero-byte read at add: %d in flight (0: finished at once)", len(p.ops))
		got, _ := collect(t, p, h, tok, time.Second)
		assert.Equal(t, Writable|Readable, got)
		assert.Equal(t, []byte("early"), drain(t, h))
		require.NoError(t, p.arm(h, tok, Readable))
		assert.Len(t, p.ops, 1, "the re-armed read pends")
		got, _ = collect(t, p, h, tok, 50*time.Millisecond)
		assert.Zero(t, got, "an event without new data (a packet after a synchronous success?)")
		draining, err := p.del(h, tok)
		require.NoError(t, err)
		assert.True(t, draining)
		got, _ = collect(t, p, h, tok, time.Second)
		assert.Equal(t, released, got)
		assert.Empty(t, p.ops)
		assert.Empty(t, p.regs)
	})
	t.Run("peer gone before add", func(t *testing.T) {
		p := contractPoller(t).(*iocpPoller)
		h, peer := contractPair(t)
		peer.close(t)
		require.NoError(t, p.add(h, tok))
		got, _ := collect(t, p, h, tok, time.Second)
		assert.Equal(t, HangUp|Readable, got&(HangUp|Readable), "got %v", got)
		draining, err := p.del(h, tok)
		require.NoError(t, err)
		assert.False(t, draining, "nothing in flight after a synchronous failure")
		assert.Empty(t, p.regs)
	})
	t.Run("arm twice posts one read", func(t *testing.T) {
		p := contractPoller(t).(*iocpPoller)
		h, _ := contractPair(t)
		require.NoError(t, p.add(h, tok))
		require.NoError(t, p.arm(h, tok, Readable))
		require.NoError(t, p.arm(h, tok, Readable|Writable))
		assert.Len(t, p.ops, 1)
		got, _ := collect(t, p, h, tok, 50*time.Millisecond)
		assert.Equal(t, Writable, got)
	})
}

// Every loop's port is closed by Close: five reactors of four loops would
// leave twenty ports behind if it leaked them. Ports are counted, not all
// handles: the runtime's threads and Wine's own handles come and go while
// the reactors run (a count of every handle moved by four either way).
func TestCloseLeavesNoPortBehind(t *testing.T) {
	before := openPorts(t)
	for range 5 {
		r, err := New(WithLoops(4))
		require.NoError(t, err)
		require.Equal(t, before+4, openPorts(t), "one port per loop while the reactor runs")
		h, _ := contractPair(t)
		pr := newPipeReader(r.Loops()[2], h)
		pr.register(t)
		require.NoError(t, r.Close())
		assert.Equal(t, before, openPorts(t), "ports after Close")
	}
}

// A read that finished before del still has its packet in the port:
// CancelIoEx finds nothing to cancel, and the packet, once dequeued, only
// releases the registration.
func TestDelAfterTheReadFinishedReleasesOnly(t *testing.T) {
	tok := token{slot: 2, gen: 5}
	p := contractPoller(t).(*iocpPoller)
	h, peer := contractPair(t)
	require.NoError(t, p.add(h, tok))
	require.Len(t, p.ops, 1)
	peer.write(t, []byte("x"))
	time.Sleep(20 * time.Millisecond) // the zero-byte read completes; nobody dequeues it
	draining, err := p.del(h, tok)
	require.NoError(t, err, "CancelIoEx of a finished read")
	assert.True(t, draining)
	got, _ := collect(t, p, h, tok, time.Second)
	assert.Equal(t, released, got, "only released after del")
	assert.Empty(t, p.regs)
}

// One handle registered and unregistered over and over, with data arriving
// all the while: each registration's events reach its own owner only, and
// every slot drains before it is reused.
func TestRegisterAgainAndAgainOnOneHandle(t *testing.T) {
	r := startReactor(t, WithLoops(1))
	l := r.Loops()[0]
	h, peer := contractPair(t)
	var received []byte
	for i := range 100 {
		pr := newPipeReader(l, h)
		pr.register(t)
		msg := []byte{byte(i)}
		peer.write(t, msg)
		received = append(received, pr.readExactly(t, 1)...)
		require.NoError(t, l.Call(func() { assert.NoError(t, l.Unregister(pr.reg)) }))
		n := len(pr.evs)
		time.Sleep(time.Millisecond)
		require.Equal(t, n, len(pr.evs), "an event after Unregister")
	}
	for i, b := range received {
		require.Equal(t, byte(i), b)
	}
	require.Eventually(t, func() bool {
		var n int
		l.Call(func() { n = l.draining })
		return n == 0
	}, 5*time.Second, 5*time.Millisecond, "every slot released")
	assert.Zero(t, l.Stats().Registered)
}

// A write the pipe cannot take whole stays pending with its buffer: arm
// (Writable) reports nothing meanwhile, del cancels it and keeps the
// registration (and the buffer) until the aborted completion is dequeued,
// which only releases it.
func TestDelWithAWritePendingKeepsItsBufferUntilReleased(t *testing.T) {
	tok := token{slot: 4, gen: 9}
	p := contractPoller(t).(*iocpPoller)
	h, _ := contractPair(t)
	require.NoError(t, p.add(h, tok))
	got, _ := collect(t, p, h, tok, time.Second)
	require.Equal(t, Writable, got)

	buf := bytes.Repeat([]byte{'w'}, 1<<20) // far more than the pipe's 4 KiB
	n, pending, err := p.write(h, tok, buf)
	require.NoError(t, err)
	require.True(t, pending, "a 1 MiB write to a 4 KiB pipe nobody reads")
	require.Zero(t, n)
	r := p.regs[tok]
	assert.Equal(t, &buf[0], &r.write.buf[0], "the poller holds the buffer")
	require.NoError(t, p.arm(h, tok, Writable))
	got, _ = collect(t, p, h, tok, 50*time.Millisecond)
	assert.Zero(t, got, "Writable while the write is pending")

	draining, err := p.del(h, tok)
	require.NoError(t, err)
	require.True(t, draining, "a pending write keeps the registration draining")
	assert.NotNil(t, r.write.buf, "the buffer is kept until the completion is seen")
	got, _ = collect(t, p, h, tok, time.Second)
	assert.Equal(t, released, got, "only released after del")
	assert.Nil(t, r.write.buf)
	assert.Empty(t, p.regs)
	assert.Empty(t, p.ops)
}

// The handle closed while its write is pending (a session ending with output
// in flight): the completion still comes back to the port and releases the
// registration; nothing is freed before.
func TestCloseTheHandleWithAWritePending(t *testing.T) {
	tok := token{slot: 1, gen: 3}
	p, h, peer := pendingWrite(t, tok)
	draining, err := p.del(h, tok)
	require.NoError(t, err)
	require.True(t, draining)
	peer.close(t)
	got, _ := collect(t, p, h, tok, time.Second)
	assert.Equal(t, released, got)
	assert.Empty(t, p.ops)
}

// A write that completes with an error (the peer went while it was pending)
// reports it through written, after its Writable.
func TestAPendingWriteThatFailsReportsItsError(t *testing.T) {
	tok := token{slot: 1, gen: 1}
	p, h, peer := pendingWrite(t, tok)
	peer.close(t)
	waitWritable(t, p, h, tok)
	n, pending, err := p.written(tok)
	assert.False(t, pending)
	assert.Zero(t, n, "nobody read a byte")
	assert.ErrorIs(t, err, windows.ERROR_BROKEN_PIPE, "a write whose reader left")
}

// pendingWrite registers one end of a pair as tok and leaves a 1 MiB write
// pending on it, which the 4 KiB pipe cannot take while nobody reads.
func pendingWrite(t *testing.T, tok token) (*iocpPoller, uintptr, contractEnd) {
	t.Helper()
	p := contractPoller(t).(*iocpPoller)
	h, peer := contractPair(t)
	require.NoError(t, p.add(h, tok))
	collect(t, p, h, tok, time.Second)
	_, pending, err := p.write(h, tok, make([]byte, 1<<20))
	require.NoError(t, err)
	require.True(t, pending)
	return p, h, peer
}
