package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample has two runs of one client, spin windows of 8, 40 and 10 µs and
// blocking ones of 4 and 60 µs (fast, fast, slow; slow, fast), and a run
// of another client.
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
`

func TestParseKeepsRunsAndWindowsInOrder(t *testing.T) {
	runs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	us := time.Microsecond
	assert.Equal(t, []run{
		{"go", []window{{false, 8 * us}, {true, 4 * us}, {false, 40 * us}}},
		{"go", []window{{true, 60 * us}, {false, 10 * us}}},
		{"c", []window{{true, 3900 * time.Nanosecond}}},
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
	assert.Equal(t, `| client | wait | windows | p10 | p25 | median | p75 | p90 | mean | fast (≤ 12µs) |
|---|---|--:|--:|--:|--:|--:|--:|--:|--:|
| go | spin | 3 | 8.0 µs | 8.0 µs | 10.0 µs | 10.0 µs | 10.0 µs | 19.3 µs | 67 % |
| go | block at once | 2 | 4.0 µs | 4.0 µs | 4.0 µs | 4.0 µs | 4.0 µs | 32.0 µs | 50 % |
| c | block at once | 1 | 3.9 µs | 3.9 µs | 3.9 µs | 3.9 µs | 3.9 µs | 3.9 µs | 100 % |

| client | fast after a fast window | fast after a slow window |
|---|--:|--:|
| go | 50 % | 100 % |
| c | – | – |
`, out.String())
}
