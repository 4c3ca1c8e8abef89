// Package results reads `go test -bench` output: each benchmark's values
// per unit, one per run, and their medians.
package results

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Set is what a `go test -bench` output holds: for each benchmark name
// (without "Benchmark" and the -GOMAXPROCS suffix), each unit's values, one
// per run, in input order.
type Set struct {
	Names  []string // in order of first appearance
	Values map[string]map[string][]float64
}

// Parse reads the result lines of `go test -bench` output and ignores the
// rest (headers, PASS, logs).
func Parse(r io.Reader) (*Set, error) {
	s := &Set{Values: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// name, iterations, then value-unit pairs
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		units, ok := s.Values[name]
		if !ok {
			units = map[string][]float64{}
			s.Values[name] = units
			s.Names = append(s.Names, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", sc.Text(), err)
			}
			units[f[i+1]] = append(units[f[i+1]], v)
		}
	}
	return s, sc.Err()
}

// Median returns the median of the named benchmark's values in unit, and
// whether there were any.
func (s *Set) Median(name, unit string) (float64, bool) {
	m := Median(s.Values[name][unit])
	return m, !math.IsNaN(m)
}

// Runs returns how many values the named benchmark has in unit, not
// counting those DropSteal left out.
func (s *Set) Runs(name, unit string) int {
	n := 0
	for _, v := range s.Values[name][unit] {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

// StealUnit is the figure every workload reports for the share of the
// machine's CPU time the hypervisor gave to other guests during the run.
const StealUnit = "steal-%"

// DropSteal leaves out every run whose steal was above max: each of its
// figures becomes NaN, which Median and Runs skip. The values keep their
// places, so that the i-th run of every benchmark still belongs to the i-th
// pass of interleaved runs, and a ratio taken pass by pass can skip just the
// pairs that lost a run. Runs without a steal figure (older outputs,
// systems other than Linux) are kept. It returns how many runs it left out
// and how many had a steal figure.
func (s *Set) DropSteal(max float64) (dropped, measured int) {
	for _, name := range s.Names {
		units := s.Values[name]
		for i, st := range units[StealUnit] {
			measured++
			if !(st > max) {
				continue
			}
			dropped++
			for _, v := range units {
				if i < len(v) {
					v[i] = math.NaN()
				}
			}
		}
	}
	return dropped, measured
}

// Median returns the median of v (the mean of the middle two if there is an
// even number), NaN for none; NaNs (runs left out) do not count.
func Median(v []float64) float64 {
	s := slices.DeleteFunc(slices.Clone(v), math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
