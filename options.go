package localipc

import (
	"os"
	"time"

	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/reactor"
)

// Option configures Listen, Serve, Dial and DialContext. Options that make
// no sense for a call are ignored by it.
type Option func(*options)

type options struct {
	mode      os.FileMode // socket file mode set before listen(2); 0: leave umask's
	group     int         // group given access before listen(2); -1: none
	peerCheck func(pid, uid, gid int) error
	reactor   *reactor.Reactor
	waitMode  *reactor.WaitMode // nil: the default reactor's
	handler   Handler           // Dial: serve the session by callbacks
	limits    session.Limits
	sddl      *string // Windows: the pipes' security descriptor; nil: IPRT's default
}

func collectOptions(opts []Option) options {
	o := options{group: -1, limits: session.DefaultLimits}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// reactorOf returns the reactor the options name: WithReactor's, else the
// process-wide one of WithWaitMode's mode, else the default one.
func (o *options) reactorOf() (*reactor.Reactor, error) {
	switch {
	case o.reactor != nil:
		return o.reactor, nil
	case o.waitMode != nil:
		return reactor.Shared(*o.waitMode)
	}
	return reactor.Default()
}

// WithAccessMode sets the socket file's permission bits (mode & 0777) before
// the server starts listening, so no client can connect under the umask's
// mode first: SetAccessMode without IPRT's window. Listen and Serve.
func WithAccessMode(mode os.FileMode) Option {
	return func(o *options) { o.mode = mode & os.ModePerm }
}

// WithGroupAccess gives group gid read and write access to the socket (chown
// to the group, mode 0660) before the server starts listening:
// GrantGroupAccess without IPRT's window. Listen and Serve.
func WithGroupAccess(gid int) Option {
	return func(o *options) {
		o.group = gid
		o.mode = 0o660
	}
}

// WithSecurityDescriptor gives a Windows server's pipe instances the
// security descriptor sddl (SDDL, as ConvertStringSecurityDescriptorTo
// SecurityDescriptor reads it: "D:P(A;;GA;;;SY)(A;;GA;;;OW)", say) instead
// of IPRT's default, which has no DACL and so takes the creating token's
// default one. Every instance has it from its creation, so no client gets in
// under another first; it must let this process create more instances of
// the pipe (FILE_CREATE_PIPE_INSTANCE, which GA and FA grant), or only the
// first one is made. A string Windows cannot read fails Listen or Serve;
// with RestrictToUser, which sets a DACL of its own, it is ErrInvalidFlags.
// Elsewhere a socket has a file mode, not a descriptor: Listen and Serve
// return an error matching ErrNotSupported (use WithAccessMode). Listen and
// Serve; Dial ignores it.
func WithSecurityDescriptor(sddl string) Option {
	return func(o *options) { o.sddl = &sddl }
}

// WithPeerCheck lets a server refuse a client by its credentials before
// AcceptSession returns it or OnOpen sees it: a non-nil error closes the
// connection. pid is -1 where the system does not record it. Listen and
// Serve.
func WithPeerCheck(check func(pid, uid, gid int) error) Option {
	return func(o *options) { o.peerCheck = check }
}

// WithReactor serves callback sessions on r instead of the process-wide
// default reactor. Serve, and Dial with WithHandler.
func WithReactor(r *reactor.Reactor) Option {
	return func(o *options) { o.reactor = r }
}

// WithWaitMode serves callback sessions on the process-wide reactor whose
// loops wait in mode m (reactor.Shared), started on first use and never
// closed, instead of on the default one (reactor.Default). The
// default suits servers whose clients are other processes and whose handlers
// answer them; one whose handlers hand work to goroutines of its own does
// better with reactor.WaitBusy. docs/design.md has the figures of each mode.
// WithReactor, if given too, wins. An unknown mode makes Serve and Dial fail.
// Serve, and Dial with WithHandler.
func WithWaitMode(m reactor.WaitMode) Option {
	return func(o *options) { o.waitMode = &m }
}

// WithHandler makes Dial serve the session by callbacks on the reactor, like
// a session of Serve: a client with thousands of connections needs no
// goroutine for them. Dial and DialContext.
func WithHandler(h Handler) Option {
	return func(o *options) { o.handler = h }
}

// WithWatermarks bounds the output queued for a callback session: at high
// bytes its loop stops reading it (the peer feels the backpressure) and
// writers on other goroutines wait; at low bytes both resume. A Write from
// a reactor loop (a handler) never waits: one that would take the queue
// past 4×high returns (0, ErrTryAgain) and sends and queues nothing, so a
// handler that sends more than 4×high in one Write needs higher marks. Values
// <= 0 keep the defaults (1 MiB and 256 KiB); low is kept below high.
func WithWatermarks(low, high int) Option {
	return func(o *options) {
		if high > 0 {
			o.limits.HighWater = high
		}
		if low > 0 {
			o.limits.LowWater = low
		}
		o.limits.LowWater = min(o.limits.LowWater, o.limits.HighWater-1)
	}
}

// WithMaxInput bounds the input a handler may leave unconsumed (default
// 4 MiB); a session that needs more ends with ErrInputLimit.
func WithMaxInput(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.limits.MaxInput = n
		}
	}
}

// WithLinger bounds how long closing a callback session keeps flushing its
// queued output to a peer that does not read (default 5 s).
func WithLinger(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.limits.Linger = d
		}
	}
}
