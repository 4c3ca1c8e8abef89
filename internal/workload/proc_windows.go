package workload

import (
	"time"

	"github.com/localipc/localipc/internal/winapi"
	"golang.org/x/sys/windows"
)

// benchPath is where a server of the harness listens: a pipe of its own.
func benchPath(name string) string { return `\\.\pipe\` + name }

// process opens the server's process for queries.
func (p *ServerProc) process() (windows.Handle, error) {
	return windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(p.cmd.Process.Pid))
}

// CPU returns the user and kernel time the server has used.
func (p *ServerProc) CPU() (time.Duration, error) {
	h, err := p.process()
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0, err
	}
	ticks := func(t windows.Filetime) int64 { return int64(t.HighDateTime)<<32 | int64(t.LowDateTime) }
	return time.Duration(ticks(kernel)+ticks(user)) * 100, nil // FILETIME counts 100 ns
}

// HWM returns the server's peak working set in bytes.
func (p *ServerProc) HWM() (int64, error) {
	h, err := p.process()
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(h)
	peak, err := winapi.PeakWorkingSet(h)
	return int64(peak), err
}
