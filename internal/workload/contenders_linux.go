//go:build linux

package workload

import (
	"net"
	"os"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/reactor"
)

// Builtin returns the contenders this module has: localipc's faces, Go's net
// package, and raw syscalls on one epoll loop.
func Builtin() []Contender {
	return []Contender{
		{Name: "localipc-blocking", Serve: serveLocalipcBlocking},
		{Name: "localipc-callback", Serve: serveLocalipcCallback},
		{Name: "localipc-wait", Serve: serveLocalipcWait},
		{Name: "net", Serve: serveNet},
		{Name: "raw", Serve: serveRaw},
		// The blocking face's floor: its os.File path without the Session.
		{Name: "osfile", Serve: serveOSFile, Optional: true},
		// The callback face on the process-wide reactor of each wait mode
		// (localipc.WithWaitMode), to choose the default by measurement.
		{Name: "localipc-callback-netpoll", Serve: serveLocalipcCallbackIn(reactor.WaitNetpoll), Optional: true},
		{Name: "localipc-callback-locked", Serve: serveLocalipcCallbackIn(reactor.WaitLocked), Optional: true},
		{Name: "localipc-callback-busy", Serve: serveLocalipcCallbackIn(reactor.WaitBusy), Optional: true},
		{Name: "localipc-callback-adaptive", Serve: serveLocalipcCallbackIn(reactor.WaitAdaptive), Optional: true},
		{Name: "localipc-callback-block", Serve: serveLocalipcCallbackIn(reactor.WaitBlock), Optional: true},
	}
}

// Reference is the contender the others are compared with.
const Reference = "net"

func serveNet(path string, sink bool) (func() error, error) {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	return goroutinePerSession(l.Accept, l.Close, func(c net.Conn) { echoOrSink(c, sink) }), nil
}

// serveLocalipcCallbackIn is the callback contender on the process-wide
// reactor whose loops wait in mode m (the variants are Linux's: the wait
// modes were measured here only).
func serveLocalipcCallbackIn(m reactor.WaitMode) func(path string, sink bool) (func() error, error) {
	return func(path string, sink bool) (func() error, error) {
		return serveCallback(path, sink, localipc.WithWaitMode(m))
	}
}
