// Package winapi holds the few Win32 procedures that golang.org/x/sys/windows
// (v0.50.0) lacks and localipc needs, each bound lazily from its system DLL
// with windows.NewLazySystemDLL, so that a missing export fails the call, not
// the program's start. One file per user: pipe_windows.go for the named
// pipes and the blocking face, iocp_windows.go for the reactor's poller,
// process_windows.go for the benchmark harness. On other systems the package is empty.
package winapi
