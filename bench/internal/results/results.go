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
	v := s.Values[name][unit]
	if len(v) == 0 {
		return math.NaN(), false
	}
	return Median(v), true
}

// Runs returns how many values the named benchmark has in unit.
func (s *Set) Runs(name, unit string) int { return len(s.Values[name][unit]) }

// Median returns the median of v (the mean of the middle two if there is an
// even number), NaN for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
