//go:build linux

package workload

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSelected(t *testing.T) {
	plain := Contender{Name: "net"}
	variant := Contender{Name: "localipc-callback-busy", Optional: true}
	for _, tc := range []struct {
		name  string
		c     Contender
		only  string
		wants bool
	}{
		{"no list runs the contenders of record", plain, "", true},
		{"no list leaves the optional out", variant, "", false},
		{"named", plain, "raw,net", true},
		{"not named", plain, "raw", false},
		{"an optional one named", variant, "net,localipc-callback-busy", true},
		{"a name is matched whole", variant, "localipc-callback", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wants, Selected(tc.c, tc.only))
		})
	}
}

func TestBuiltinOptionalContenders(t *testing.T) {
	var optional []string
	for _, c := range Builtin() {
		if c.Optional {
			optional = append(optional, c.Name)
		}
	}
	assert.Equal(t, []string{"osfile", "localipc-callback-netpoll", "localipc-callback-locked", "localipc-callback-busy", "localipc-callback-adaptive", "localipc-callback-block"}, optional)
}
