//go:build linux

package localipc_test

import (
	"encoding/json"
	"expvar"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/reactor"
)

// published is the JSON of a StatsVar.
type published struct {
	Addr    string
	Loops   int
	Total   map[string]float64
	PerLoop []map[string]float64
}

// readVars fetches /debug/vars and returns the variable name.
func readVars(t *testing.T, url, name string) published {
	t.Helper()
	resp, err := http.Get(url + "/debug/vars")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var all map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &all), "%s", body)
	raw, ok := all[name]
	require.True(t, ok, "%s is in /debug/vars", name)
	var p published
	require.NoError(t, json.Unmarshal(raw, &p), "%s", raw)
	return p
}

// TestExpvarDebugVars publishes a Serve server's StatsVar and reads it
// through /debug/vars while sessions come and go.
func TestExpvarDebugVars(t *testing.T) {
	r, err := reactor.New(reactor.WithLoops(2))
	require.NoError(t, err)
	defer r.Close()
	name := exampleName("expvar") // a rerun publishes under a new name
	srv, err := localipc.Serve(name, 0, &funcHandler{data: echo}, localipc.WithReactor(r))
	require.NoError(t, err)
	defer srv.Close()
	varName := "localipc.test." + name
	expvar.Publish(varName, srv.StatsVar())
	web := httptest.NewServer(expvar.Handler())
	defer web.Close()

	before := readVars(t, web.URL, varName)
	assert.Equal(t, srv.Addr().String(), before.Addr)
	assert.Equal(t, 2, before.Loops)
	require.Len(t, before.PerLoop, 2)
	for i, l := range before.PerLoop {
		assert.EqualValues(t, i, l["Loop"])
		assert.EqualValues(t, 0, l["Sessions"])
	}
	assert.EqualValues(t, 0, before.Total["Sessions"])
	assert.EqualValues(t, 1, before.Total["Registered"], "the listening socket")
	assert.NotContains(t, before.Total, "Loop")

	const n = 3
	var clients []*localipc.Session
	for range n {
		c, err := localipc.Dial(name, 0)
		require.NoError(t, err)
		defer c.Close()
		// A round trip: the server has the session once it answers.
		_, err = c.Write([]byte("ping"))
		require.NoError(t, err)
		require.NoError(t, c.ReadFull(make([]byte, 4)))
		clients = append(clients, c)
	}
	// A loop counts bytes out after the send that the client's ReadFull
	// already saw, so the last reply may reach the client before its count
	// reaches the page: read until it does.
	var during published
	require.Eventually(t, func() bool {
		during = readVars(t, web.URL, varName)
		return during.Total["BytesOut"]-before.Total["BytesOut"] == n*4
	}, 10*time.Second, time.Millisecond, "the replies are counted")
	assert.EqualValues(t, n, during.Total["Sessions"])
	assert.EqualValues(t, 1+n, during.Total["Registered"])
	assert.EqualValues(t, n*4, during.Total["BytesIn"]-before.Total["BytesIn"])
	assert.Greater(t, during.Total["Events"], before.Total["Events"])
	assert.EqualValues(t, n, during.PerLoop[0]["Sessions"]+during.PerLoop[1]["Sessions"])
	assert.Positive(t, during.PerLoop[0]["Sessions"], "sessions go to the loop serving the fewest")
	assert.Positive(t, during.PerLoop[1]["Sessions"])

	for _, c := range clients {
		require.NoError(t, c.Close())
	}
	// The sessions end on their loops after the clients close; nothing
	// signals the last count, so the page is read until it shows it.
	var after published
	require.Eventually(t, func() bool {
		after = readVars(t, web.URL, varName)
		return after.Total["Sessions"] == 0
	}, 10*time.Second, time.Millisecond, "the sessions leave the count")
	assert.EqualValues(t, 1, after.Total["Registered"])
	assert.Equal(t, during.Total["BytesIn"], after.Total["BytesIn"], "counters stay")
}

// TestStatsVarListen: a Listen server has no loops; its Var says so.
func TestStatsVarListen(t *testing.T) {
	srv, err := localipc.Listen(exampleName("expvar-listen"), 0)
	require.NoError(t, err)
	defer srv.Close()
	assert.JSONEq(t, fmt.Sprintf(`{"Addr": %q, "Loops": 0, "PerLoop": [], "Total": %s}`, srv.Addr(), zeroTotal(t)), srv.StatsVar().String())
	var nilServer *localipc.Server
	assert.JSONEq(t, fmt.Sprintf(`{"Addr": "", "Loops": 0, "PerLoop": [], "Total": %s}`, zeroTotal(t)), nilServer.StatsVar().String())
}

// zeroTotal is Total with no loops: every field of LoopStats but Loop, at 0.
func zeroTotal(t *testing.T) string {
	t.Helper()
	m := map[string]int{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			if f.Anonymous {
				walk(f.Type)
			} else if f.Name != "Loop" {
				m[f.Name] = 0
			}
		}
	}
	walk(reflect.TypeOf(localipc.LoopStats{}))
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// TestStatsVarTotal: Total is each field summed over the loops, QueuedMax
// the largest, for every field of LoopStats.
func TestStatsVarTotal(t *testing.T) {
	r, err := reactor.New(reactor.WithLoops(2))
	require.NoError(t, err)
	defer r.Close()
	name := exampleName("expvar-total")
	srv, err := localipc.Serve(name, 0, &funcHandler{data: echo}, localipc.WithReactor(r))
	require.NoError(t, err)
	defer srv.Close()
	var p published
	require.NoError(t, json.Unmarshal([]byte(srv.StatsVar().String()), &p))
	require.Len(t, p.PerLoop, 2)
	for field, total := range p.Total {
		a, b := p.PerLoop[0][field], p.PerLoop[1][field]
		want := a + b
		if field == "QueuedMax" {
			want = max(a, b)
		}
		assert.Equal(t, want, total, field) // one snapshot: Total is of PerLoop
	}
	assert.Len(t, p.Total, len(p.PerLoop[0])-1, "every field but Loop")
}
