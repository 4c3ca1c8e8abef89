package localipc

import (
	"expvar"
	"reflect"
	"strings"
)

// StatsVar returns the server's counters as an expvar.Var, for
// expvar.Publish, and so for the /debug/vars page that expvar.Handler
// serves (and that importing expvar adds to http.DefaultServeMux):
//
//	expvar.Publish("localipc.myservice", srv.StatsVar())
//
// It does not publish anything itself, so that the caller picks the name
// and when to publish: expvar.Publish panics when a name is taken and
// nothing unpublishes one, so a package that published under a name of its
// own would panic at the second server of that name in a process (a
// restart, a test run twice). To follow the server of the moment under one
// name, publish an expvar.Func that reads the StatsVar of whichever server
// is current.
//
// The Var is read afresh each time its String method is called (each
// request of /debug/vars), from Stats, without stopping the loops; each
// figure is read atomically, the whole is not a single instant. Its value
// is a JSON object:
//
//	{
//	  "Addr":    "/tmp/.iprt-localipc-myservice",  the server's socket path
//	  "Loops":   2,                                the number of reactor loops
//	  "Total":   { ... },                          the loops' figures summed
//	  "PerLoop": [ { "Loop": 0, ... }, ... ]       each loop's LoopStats, by index
//	}
//
// Each object in PerLoop has the fields of LoopStats under their Go names;
// Total has the same fields but Loop, each the sum over the loops, except
// QueuedMax (and any field whose name ends in Max), which is the largest.
// Figures that are current values (they go up and down):
//
//	Sessions    callback sessions served now
//	Paused      of those, the ones whose reading backpressure has paused
//	Registered  descriptors registered with the loop now (sessions and listeners)
//	Timers      timers armed now
//
// Counters (they only grow, from the start of the reactor):
//
//	BytesIn     bytes read from callback sessions
//	BytesOut    bytes written to callback sessions
//	QueuedMax   the largest output queue any session has had, in bytes
//	Events      readiness events delivered to handlers
//	Stale       events dropped because their registration was gone
//	Iterations  times round the loop
//	Posts       tasks posted to the loop
//	Tasks       tasks run
//	WakeWrites  wake-up writes made by posters (coalesced: fewer than Posts)
//	Wakeups     wake-ups the loop received
//	TimersRun   timers fired
//
// The loops are the reactor's, not the server's: servers (and Dial's
// callback sessions) on the same reactor, the process-wide one unless
// WithReactor names another, show the same figures. A Listen server has no
// loops, since its sessions are served by the goroutines of its callers:
// Loops is 0, PerLoop empty and Total all zero.
func (s *Server) StatsVar() expvar.Var {
	addr := ""
	if s != nil {
		addr = s.path
	}
	return expvar.Func(func() any {
		per := s.Stats()
		if per == nil {
			per = []LoopStats{} // JSON [], not null
		}
		return statsVar{Addr: addr, Loops: len(per), Total: sumStats(per), PerLoop: per}
	})
}

// statsVar is the value of StatsVar.
type statsVar struct {
	Addr    string
	Loops   int
	Total   map[string]any
	PerLoop []LoopStats
}

// sumStats adds up the loops' figures field by field, by reflection so that
// a field added to LoopStats is summed without a change here. Loop, an
// index, is left out; a field named ...Max is a maximum, so its total is
// the largest.
func sumStats(per []LoopStats) map[string]any {
	total := map[string]any{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			f, fv := t.Field(i), v.Field(i)
			switch {
			case !f.IsExported():
			case f.Anonymous && fv.Kind() == reflect.Struct:
				walk(fv)
			case f.Name == "Loop":
			case fv.CanInt():
				n, _ := total[f.Name].(int64)
				total[f.Name] = combine(f.Name, n, fv.Int())
			case fv.CanUint():
				n, _ := total[f.Name].(uint64)
				total[f.Name] = combine(f.Name, n, fv.Uint())
			}
		}
	}
	var zero LoopStats
	walk(reflect.ValueOf(zero)) // every field present, even with no loops
	for _, st := range per {
		walk(reflect.ValueOf(st))
	}
	return total
}

func combine[T int64 | uint64](name string, total, v T) T {
	if strings.HasSuffix(name, "Max") {
		return max(total, v)
	}
	return total + v
}
