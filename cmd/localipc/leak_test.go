package main

import (
	"testing"

	"github.com/localipc/localipc/reactor"
	"go.uber.org/goleak"
)

// The process-wide reactor, which Serve and Dial use unless told otherwise,
// is never closed: it is started first, so that only what a test leaves
// behind counts as a leak.
func TestMain(m *testing.M) {
	reactor.Default()
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}
