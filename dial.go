package localipc

import (
	"context"
	"net"

	"github.com/localipc/localipc/internal/session"
	"github.com/localipc/localipc/reactor"
)

// Dial connects to the server on name (RTLocalIpcSessionConnect): ErrNotFound
// if there is none, ErrConnectionRefused if a dead server left its socket
// file, ErrAccessDenied if the file's mode keeps us out. When the server's
// backlog is full, Dial waits for room as a blocking connect does; use
// DialContext to bound that wait.
func Dial(name string, flags Flags, opts ...Option) (*Session, error) {
	return DialContext(context.Background(), name, flags, opts...)
}

// DialContext is Dial bounded by ctx: when ctx ends first it returns an
// error matching ctx.Err() and also ErrTimeout (deadline) or ErrCancelled
// (cancel). A nil ctx means context.Background(). With WithHandler the
// session is served by callbacks on a reactor loop, like Serve's.
func DialContext(ctx context.Context, name string, flags Flags, opts ...Option) (*Session, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	o := collectOptions(opts)
	path, err := resolveName(name, flags, false)
	if err != nil {
		return nil, err
	}
	var r *reactor.Reactor
	if o.handler != nil {
		// Both before connecting: the server would see a session end at once.
		if err := session.CallbackFace(); err != nil {
			return nil, err
		}
		if r, err = o.reactorOf(); err != nil {
			return nil, err
		}
	}
	h, err := dial(ctx, path, flags)
	if err != nil {
		return nil, err
	}
	addrs := &session.Addrs{Local: unnamed, Remote: &net.UnixAddr{Name: path, Net: "unix"}}
	if o.handler == nil {
		return session.New(h, addrs)
	}
	return session.Attach(h, addrs, r.Least(), &session.Config{Handler: o.handler, Limits: o.limits})
}
