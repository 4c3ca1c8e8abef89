package reactor

// DefaultWaitMode is the wait mode of New without WithWaitMode, and of
// Default's reactor: on Linux the one measured fastest with the clients in
// other processes (docs/design.md, "How a loop waits"). With GOMAXPROCS 1
// they get WaitBusy instead, which was the faster there.
const DefaultWaitMode = WaitAdaptive
