package bench

import (
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// The probes really compute: every chain converges to c/(1−m) = 2, so the
// accumulators sum to 2·chains·lanes.
func TestFMAProbeComputes(t *testing.T) {
	for _, l := range probeLevels() {
		for _, f64 := range []bool{false, true} {
			flops, sum := fmaProbe(l, f64, 100)
			want := 24.0 // generic: 12 scalar chains
			if l != kernels.Generic {
				chains, lanes := fmaChainsAsm(l, f64)
				want = float64(2 * chains * lanes)
			}
			if sum != want {
				t.Errorf("%s f64=%v: accumulators sum to %v, want %v", l, f64, sum, want)
			}
			if f, _ := fmaProbeFLOPs(l, f64, 100); f != flops {
				t.Errorf("%s f64=%v: FLOP count %v, the probe says %v", l, f64, f, flops)
			}
		}
	}
}

func TestReadProbe(t *testing.T) {
	buf := make([]byte, 4096)
	var want uint64
	for i := range buf {
		buf[i] = byte(i*13 + 5)
	}
	for i := 0; i < len(buf); i += 8 {
		var w uint64
		for j := 7; j >= 0; j-- {
			w = w<<8 | uint64(buf[i+j])
		}
		want ^= w
	}
	if got := readBuf(buf); got != want {
		t.Errorf("readBuf = %#x, want %#x", got, want)
	}
}
