package reactor

import (
	"container/heap"
	"sync/atomic"
	"time"
)

// Timer is a one-shot callback on a loop, made by Loop.AfterFunc.
type Timer struct {
	loop  *Loop
	when  time.Time
	seq   uint64 // tie-break: timers due at the same instant fire in arming order
	f     func()
	index int // position in the heap; -1 once fired or stopped
}

// AfterFunc arms a timer that runs f on the loop once d has elapsed, never
// earlier. Deadlines of the layers above (WaitForData, Read timeouts) are
// timers on the loop that owns their session: a per-loop heap, woken by the
// loop's own wait, measured cheaper than runtime timers that post to the loop
// (BenchmarkDeadline in timers_test.go). Loop goroutine only.
func (l *Loop) AfterFunc(d time.Duration, f func()) *Timer {
	l.timers.seq++
	t := &Timer{loop: l, when: time.Now().Add(d), seq: l.timers.seq, f: f}
	heap.Push(&l.timers, t)
	return t
}

// Stop disarms the timer. It reports whether the timer was still armed, that
// is whether Stop kept f from running. Loop goroutine only.
func (t *Timer) Stop() bool {
	if t == nil || t.index < 0 {
		return false
	}
	heap.Remove(&t.loop.timers, t.index)
	return true
}

// timerHeap is a min-heap of timers ordered by (when, seq).
type timerHeap struct {
	items []*Timer
	seq   uint64
	n     atomic.Int64 // len(items), readable from Stats on any goroutine
}

func (h *timerHeap) Len() int { return len(h.items) }

func (h *timerHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.when.Equal(b.when) {
		return a.seq < b.seq
	}
	return a.when.Before(b.when)
}

func (h *timerHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index = i
	h.items[j].index = j
}

func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(h.items)
	h.items = append(h.items, t)
	h.n.Store(int64(len(h.items)))
}

func (h *timerHeap) Pop() any {
	last := len(h.items) - 1
	t := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	t.index = -1
	h.n.Store(int64(len(h.items)))
	return t
}

func (h *timerHeap) next() (time.Time, bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].when, true
}

func (h *timerHeap) pop() *Timer { return heap.Pop(h).(*Timer) }

func (h *timerHeap) count() int { return int(h.n.Load()) }

func (h *timerHeap) clear() {
	for _, t := range h.items {
		t.index = -1
	}
	clear(h.items)
	h.items = h.items[:0]
	h.n.Store(0)
}
