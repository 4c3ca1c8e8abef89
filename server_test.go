package localipc_test

import (
	"context"
	"encoding/json"
	"expvar"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/localipc/localipc"
	"github.com/localipc/localipc/internal/ipcerr"
)

// TestNilServerEveryMethod calls every exported method of a nil *Server,
// found by reflection, so that a method added later fails here until its
// nil result is written down: a nil server, like IPRT's NIL handle, must
// give ErrClosed (or nothing), never a panic.
func TestNilServerEveryMethod(t *testing.T) {
	errClosed := func(t *testing.T, out []any) {
		require.Len(t, out, 1)
		err, _ := out[0].(error)
		expect(t, err, localipc.ErrClosed, ipcerr.VERR_INVALID_HANDLE, "the error")
		assert.Same(t, localipc.ErrClosed, err, "the sentinel itself")
	}
	// want checks a method's results, as Call returned them.
	want := map[string]func(t *testing.T, out []any){
		"Accept": func(t *testing.T, out []any) {
			require.Len(t, out, 2)
			assert.Nil(t, out[0], "no net.Conn")
			errClosed(t, out[1:])
		},
		"AcceptSession": func(t *testing.T, out []any) {
			require.Len(t, out, 2)
			assert.Equal(t, (*localipc.Session)(nil), out[0])
			errClosed(t, out[1:])
		},
		// nil, untyped: what a nil Session's LocalAddr gives.
		"Addr":   func(t *testing.T, out []any) { assert.Equal(t, []any{nil}, out) },
		"Cancel": errClosed,
		// IPRT's destroy of NIL succeeds.
		"Close":            func(t *testing.T, out []any) { assert.Equal(t, []any{nil}, out) },
		"GrantGroupAccess": errClosed,
		"SetAccessMode":    errClosed,
		"Shutdown":         func(t *testing.T, out []any) { assert.Equal(t, []any{nil}, out) },
		"Stats":            func(t *testing.T, out []any) { assert.Equal(t, []any{[]localipc.LoopStats(nil)}, out) },
		"StatsVar": func(t *testing.T, out []any) {
			require.Len(t, out, 1)
			v, ok := out[0].(expvar.Var)
			require.True(t, ok, "an expvar.Var: %#v", out[0])
			var got struct {
				Addr    string
				Loops   int
				Total   map[string]float64
				PerLoop []json.RawMessage
			}
			require.NoError(t, json.Unmarshal([]byte(v.String()), &got), v.String())
			assert.Equal(t, "", got.Addr)
			assert.Equal(t, 0, got.Loops)
			assert.Equal(t, []json.RawMessage{}, got.PerLoop, "JSON [], not null")
			assert.NotEmpty(t, got.Total)
			for name, n := range got.Total {
				assert.Zero(t, n, "Total.%s", name)
			}
		},
	}
	var srv *localipc.Server
	v := reflect.ValueOf(srv)
	seen := map[string]bool{}
	for i := range v.NumMethod() {
		name := v.Type().Method(i).Name
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			check, ok := want[name]
			require.True(t, ok, "Server.%s has no nil result written down here", name)
			mt := v.Method(i).Type()
			args := make([]reflect.Value, mt.NumIn())
			for j := range args {
				switch in := mt.In(j); in {
				case reflect.TypeFor[context.Context]():
					args[j] = reflect.ValueOf(context.Background())
				default:
					args[j] = reflect.Zero(in)
				}
			}
			var out []any
			require.NotPanics(t, func() {
				for _, o := range v.Method(i).Call(args) {
					out = append(out, o.Interface())
				}
			})
			check(t, out)
		})
	}
	for name := range want {
		assert.True(t, seen[name], "Server.%s is listed here but is no method", name)
	}
}
