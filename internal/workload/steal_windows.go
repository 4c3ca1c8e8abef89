//go:build windows

package workload

import "errors"

// ReadCPUTimes has no steal time to read on Windows, which does not count it
// for its guests; the harness then reports none.
func ReadCPUTimes() (CPUTimes, error) { return CPUTimes{}, errors.ErrUnsupported }
