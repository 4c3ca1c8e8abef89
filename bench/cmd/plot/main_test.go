package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/localipc/localipc/bench/internal/results"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/localipc/localipc/bench
BenchmarkW1PingPong/contender=net-2         	       1	         0 ns/op	        19.19 p50-µs	        52.18 p99-µs	     49224 roundtrips/s
BenchmarkW3Fanout/N=1000/contender=net-2    	       1	         0 ns/op	         5.0 cpu-s/Mmsg	    100000 msgs/s	    2000 p99-µs
BenchmarkW3Fanout/N=100/contender=net-2     	       1	         0 ns/op	         5.0 cpu-s/Mmsg	    150000 msgs/s	    1000 p99-µs
BenchmarkW3Fanout/N=100/contender=raw-2     	       1	         0 ns/op	         4.0 cpu-s/Mmsg	    200000 msgs/s	     700 p99-µs
BenchmarkW3Fanout/N=100/contender=net-2     	       1	         0 ns/op	         5.0 cpu-s/Mmsg	    170000 msgs/s	    3000 p99-µs
BenchmarkW3Fanout/N=100/contender=net-2     	       1	         0 ns/op	         5.0 cpu-s/Mmsg	    160000 msgs/s	    2000 p99-µs
PASS
ok  	github.com/localipc/localipc/bench	8.369s
`

func TestParseAndSeries(t *testing.T) {
	res, err := results.Parse(strings.NewReader(sample))
	require.NoError(t, err)
	ss, runs := fanoutSeries(res, "W3Fanout")
	assert.Equal(t, 3, runs)
	require.Len(t, ss, 2)
	assert.Equal(t, "net", ss[0].contender)
	assert.Equal(t, []point{{100, 160000, 2000}, {1000, 100000, 2000}}, ss[0].points, "medians, sorted by session count")
	assert.Equal(t, "raw", ss[1].contender)
}

func TestDrawIsWellFormedSVG(t *testing.T) {
	res, err := results.Parse(strings.NewReader(sample))
	require.NoError(t, err)
	ss, _ := fanoutSeries(res, "W3Fanout")
	var buf bytes.Buffer
	draw(&buf, "a <title> & more", "small print", ss)
	dec := xml.NewDecoder(&buf)
	var texts []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) != "" {
			texts = append(texts, string(cd))
		}
	}
	assert.Contains(t, texts, "a <title> & more")
	assert.Contains(t, texts, "small print")
	assert.Contains(t, texts, "net")
	assert.Contains(t, texts, "raw")
	assert.Contains(t, texts, "1 ms", "p99 axis ticks in decades")
	assert.Contains(t, texts, "1000", "a session-count tick")
}
