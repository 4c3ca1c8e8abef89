package localipc_test

import (
	"testing"

	"github.com/localipc/localipc/internal/winapi"
)

// skipUnderWine skips a test that Wine cannot judge, saying why; on Windows
// itself it runs.
func skipUnderWine(t testing.TB, why string) {
	t.Helper()
	if v := winapi.WineVersion(); v != "" {
		t.Skipf("under Wine %s: %s", v, why)
	}
}
