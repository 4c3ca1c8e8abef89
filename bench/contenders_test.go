//go:build linux

package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestContendersRunInTheOrderNamed pins that -contenders decides the order,
// so that paired passes can reverse it, and that no name runs twice.
func TestContendersRunInTheOrderNamed(t *testing.T) {
	tests := []struct {
		name string
		only string
		want []string
		run  []string
	}{
		{"as named", "net,localipc-blocking", nil, []string{"net", "localipc-blocking"}},
		{"reversed", "localipc-blocking,net", nil, []string{"localipc-blocking", "net"}},
		{"a name twice runs once", "gnet,net,gnet", nil, []string{"gnet", "net"}},
		{"an unknown name is passed over", "nosuch,nbio", nil, []string{"nbio"}},
		{"the benchmark's own subset, in the named order", "net,gnet,localipc-blocking", []string{"localipc-blocking", "net"}, []string{"net", "localipc-blocking"}},
		{"none of the benchmark's", "gnet", []string{"localipc-blocking", "net"}, nil},
	}
	saved := *flagOnly
	t.Cleanup(func() { *flagOnly = saved })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*flagOnly = tt.only
			assert.Equal(t, tt.run, contenders(tt.want...))
		})
	}
}

// TestContendersDefaultToEveryNonOptionalOneInOrder pins the order of a run
// without -contenders: Contenders' own, the optional ones left out.
func TestContendersDefaultToEveryNonOptionalOneInOrder(t *testing.T) {
	saved := *flagOnly
	t.Cleanup(func() { *flagOnly = saved })
	*flagOnly = ""
	var want []string
	for _, c := range Contenders() {
		if !c.Optional {
			want = append(want, c.Name)
		}
	}
	assert.Equal(t, want, contenders())
	assert.Contains(t, want, "gnet")
	assert.Equal(t, []string{"localipc-blocking", "net"}, contenders("net", "localipc-blocking"))
}
