package localipc

import "github.com/localipc/localipc/reactor"

// Serve's listener on Windows comes with the named-pipe port; listen fails
// first, so none of this runs.

type listener struct{}

func (a *acceptor) start() error            { return ErrNotSupported }
func (a *acceptor) OnEvents(reactor.Events) {}
func (a *acceptor) closeListener()          { a.markStopped() }
