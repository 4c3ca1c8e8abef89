package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample has two runs of client go, in file order 8 µs spin, 4 µs
// blocking, 40 µs spin, then 60 µs blocking, 10 µs spin (fast, fast, slow;
// slow, fast); a run of client c with two blocking windows, one exactly at
// the fast bound; and a run with no windows, which counts nowhere.
const sample = `# a comment on the whole file
# client=go run=1: BenchmarkW1PingPong ... 41000 roundtrips/s
false 8000 8491411188541 1
true 4000
false 40000
# client=go run=2: BenchmarkW1PingPong ...
true 60000
false 10000
# client=c run=1
true 3900
true 12000
# client=none run=1
`

func TestParseKeepsRunsAndWindowsInOrder(t *testing.T) {
	runs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	us := time.Microsecond
	assert.Equal(t, []run{
		{"go", []window{{false, 8 * us}, {true, 4 * us}, {false, 40 * us}}},
		{"go", []window{{true, 60 * us}, {false, 10 * us}}},
		{"c", []window{{true, 3900 * time.Nanosecond}, {true, 12 * us}}},
		{"none", nil},
	}, runs)
}

func TestParseRejectsMalformedLines(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"a window before any run", "false 8000\n", `line 1: a window before the first "# client=" line`},
		{"no mean", "# client=go\ntrue\n", `line 2: want a mode and a mean, got "true"`},
		{"a mode that is not a bool", "# client=go\nspin 8000\n", `line 2: mode: strconv.ParseBool: parsing "spin": invalid syntax`},
		{"a mean that is not a number", "# client=go\ntrue 8µs\n", `line 2: mean "8µs" is not a positive count of nanoseconds`},
		{"a mean of zero", "# client=go\ntrue 0\n", `line 2: mean "0" is not a positive count of nanoseconds`},
		{"a run with no client", "# client= run=1\n", `line 1: a run with no client name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tc.in))
			require.EqualError(t, err, tc.err)
		})
	}
}

func TestSummaryPerClientAndMode(t *testing.T) {
	runs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var out bytes.Buffer
	summarize(&out, runs, 12*time.Microsecond)
	assert.Equal(t, `| client | wait | windows | p10 | p25 | median | p75 | p90 | mean | fast (≤ 12.0 µs) |
|---|---|--:|--:|--:|--:|--:|--:|--:|--:|
| go | spin | 3 | 8.0 µs | 8.0 µs | 10.0 µs | 40.0 µs | 40.0 µs | 19.3 µs | 67 % |
| go | block at once | 2 | 4.0 µs | 4.0 µs | 4.0 µs | 60.0 µs | 60.0 µs | 32.0 µs | 50 % |
| c | block at once | 2 | 3.9 µs | 3.9 µs | 3.9 µs | 12.0 µs | 12.0 µs | 8.0 µs | 100 % |

| client | fast after a fast window | fast after a slow window |
|---|--:|--:|
| go | 50 % | 100 % |
| c | 100 % | – |
`, out.String())
}

func TestSummarizeFileRejectsWhatItCannotSummarize(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		return path
	}
	good := write("good.txt", sample)
	for _, tc := range []struct {
		name, path string
		fast       time.Duration
		err        string
	}{
		{"no -in", "", time.Microsecond, "-in is required"},
		{"a bound that is not positive", good, 0, "-fast 0s: want a positive duration"},
		{"an empty log", write("empty.txt", ""), time.Microsecond, filepath.Join(dir, "empty.txt") + ": no windows"},
		{"runs without windows", write("bare.txt", "# client=go\n# client=c\n"), time.Microsecond, filepath.Join(dir, "bare.txt") + ": no windows"},
		{"a malformed line", write("bad.txt", "true 1\n"), time.Microsecond, filepath.Join(dir, "bad.txt") + `: line 1: a window before the first "# client=" line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			require.EqualError(t, summarizeFile(&out, tc.path, tc.fast), tc.err)
			assert.Empty(t, out.String(), "nothing is printed for a log that is rejected")
		})
	}
	var out bytes.Buffer
	require.NoError(t, summarizeFile(&out, good, 12*time.Microsecond))
	assert.Contains(t, out.String(), "| go | spin | 3 |")
}
