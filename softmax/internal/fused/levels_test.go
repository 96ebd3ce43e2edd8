package fused

import (
	"runtime"
	"testing"

	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/kernels"
)

// TestLevelsCovered names the ISA levels whose subtests this package's
// conformance tests cannot run here (they loop over kernels.Levels()): one
// skipped subtest per missing level, recorded for make test's summary, so
// that a missing level never passes silently.
func TestLevelsCovered(t *testing.T) {
	for _, l := range kernels.AllLevels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			if l > kernels.Detected() {
				skiplog.Skipf(t, "isa="+l.String()+" subtests", "this CPU or build lacks %s (detected %s on %s)", l, kernels.Detected(), runtime.GOARCH)
			}
		})
	}
}
