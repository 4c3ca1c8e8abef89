package session

// outState is what only a busy callback session needs: output the kernel has
// not taken yet (buf[head:]), and what writers waiting for room wait on.
// Every field is under the session's mu.
type outState struct {
	buf      []byte
	head     int
	changed  chan struct{} // closed when the queue shrinks or the session ends; nil if no one waits
	writeDue int64         // write deadline for writers that wait, in UnixNano; 0: none

	// inFlight is set by a port whose sends complete later (an overlapped
	// WriteFile on Windows): the kernel then owns buf[head:] until the
	// completion is seen, so nothing may move, recycle or resend it. A send
	// on Unix is over when the call returns, and it is never set there.
	inFlight bool
}

// pending is what the kernel has yet to take, oldest byte first.
func (o *outState) pending() []byte { return o.buf[o.head:] }

// consume drops the n oldest bytes, which the kernel has taken, and gives
// the buffer back to the pool once it is empty.
func (o *outState) consume(n int) {
	o.head += n
	if o.head == len(o.buf) && !o.inFlight {
		putBuf(o.buf)
		o.buf, o.head = nil, 0
	}
}

// push queues p behind what is queued. When more than half of the buffer
// has been sent, the rest moves to its front first, so the buffer does not
// grow without bound under a steady trickle; never while a send owns it.
// (When append must grow the buffer, the kernel keeps the old one through
// the port's own reference, so it is not freed under a send either.)
func (o *outState) push(p []byte) {
	switch {
	case o.buf == nil:
		o.buf = getBuf()
	case o.head > len(o.buf)/2 && !o.inFlight:
		o.buf = o.buf[:copy(o.buf, o.buf[o.head:])]
		o.head = 0
	}
	o.buf = append(o.buf, p...)
}

// drop forgets what is queued, for a session that ends. A send in flight
// keeps its bytes until its completion is seen; the port frees them then.
func (o *outState) drop() {
	if o.buf != nil && !o.inFlight {
		putBuf(o.buf)
	}
	o.buf, o.head = nil, 0
}
