package reactor

// What a kqueue poller needs to know of a kevent, written over plain
// integers and without the OS, so that the translation the BSD and macOS
// pollers rely on is tested on Linux (kevent_test.go). poller_bsd.go only
// copies each unix.Kevent_t into a kevent, whatever types x/sys gives its
// fields on each system (NetBSD's filter and flags are uint32, the others'
// int16 and uint16), and hands it to kqueueABI.event.

// kevent is one kevent as plain integers.
type kevent struct {
	ident  uint64 // the fd, or the wake-up's identifier
	filter int    // EVFILT_*: negative everywhere but NetBSD
	flags  uint32 // EV_*
	fflags uint32 // for EV_EOF on a socket: its pending error, if any
}

// kqueueABI holds the numbers of one system's kqueue and of the poller's
// wake-up registration.
type kqueueABI struct {
	filtRead, filtWrite int
	evEOF, evError      uint32
	// The wake-up is the event with this filter and identifier: EVFILT_USER
	// and a fixed identifier, or EVFILT_READ and the self-pipe's read end.
	wakeFilter int
	wakeIdent  uint64
}

// wakeUserIdent is the identifier of the EVFILT_USER wake-up. User events
// have a namespace of their own, apart from descriptors, in a kqueue that
// only this poller uses: any number does.
const wakeUserIdent = 1

// event turns k into the event the loop gets. wake reports the poller's own
// wake-up, which the loop sees as wakeToken. ok is false for an event that
// names no registration's readiness (a filter the poller never added).
func (a *kqueueABI) event(k kevent) (ev event, wake, ok bool) {
	if k.filter == a.wakeFilter && k.ident == a.wakeIdent {
		return event{tok: wakeToken}, true, true
	}
	ev.h = uintptr(k.ident)
	switch {
	case k.flags&a.evError != 0:
		// Only a change that failed is reported this way, and wait submits
		// none; should one come, the owner learns it from its next call, as
		// from epoll's EPOLLERR.
		ev.ev = Error | Readable | Writable
	case k.filter == a.filtRead:
		ev.ev = Readable
		if k.flags&a.evEOF != 0 {
			// The peer closed or shut down its writing side: reads return
			// what is buffered, then the end of stream, as an epoll hang-up.
			ev.ev |= HangUp
			if k.fflags != 0 { // the socket's pending error
				ev.ev |= Error
			}
		}
	case k.filter == a.filtWrite:
		// EV_EOF here means that the peer reads no more: a write fails with
		// EPIPE at once, which Writable lets the owner find out. A peer that
		// closed altogether hangs up on the read filter too.
		ev.ev = Writable
		if k.flags&a.evEOF != 0 && k.fflags != 0 {
			ev.ev |= Error
		}
	default:
		return event{}, false, false
	}
	return ev, false, true
}
