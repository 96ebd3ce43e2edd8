package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLog checks Log's special values and compares it with math.Log on
// random arguments over the whole normal float64 range: both are within
// about half an ulp of the exact logarithm (glibc documents 0.519 ulp for
// its algorithm; math.Log is under 1 ulp), so they may differ by at most
// one ulp. math.Log is wrong for subnormal arguments on amd64 (its
// assembly does not normalise them: math.Log(0x0.efe77366993aap-1022)
// = −708.428…, the exact value is −708.461…), so subnormals are checked
// against Log(x·2⁶⁰) − 60·ln2 instead. Package nprand's TestLogGlibc
// compares Log with the C library bit for bit.
func TestLog(t *testing.T) {
	special := []struct{ x, want float64 }{
		{1, 0}, {0, math.Inf(-1)}, {math.Copysign(0, -1), math.Inf(-1)}, {math.Inf(1), math.Inf(1)},
		{math.E, 1}, {2, math.Ln2},
	}
	for _, c := range special {
		if got := Log(c.x); got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("Log(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	for _, x := range []float64{-1, math.Inf(-1), math.NaN(), -math.SmallestNonzeroFloat64} {
		if got := Log(x); !math.IsNaN(got) {
			t.Errorf("Log(%v) = %v, want NaN", x, got)
		}
	}
	r := rand.New(rand.NewPCG(81, 82))
	ulps := func(a, b float64) int64 {
		d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
		if d < 0 {
			d = -d
		}
		return d
	}
	for i := 0; i < 1000000; i++ {
		var x float64
		switch i % 3 {
		case 0: // any positive normal float64
			x = math.Float64frombits(r.Uint64() >> 1)
			if x < 0x1p-1022 {
				sub := math.Float64frombits(r.Uint64() >> 12)
				got, want := Log(sub), Log(sub*0x1p60)-60*math.Ln2
				if math.Abs(got-want) > 2*0x1p-52*math.Abs(want) {
					t.Fatalf("subnormal Log(%v) = %v, want %v", sub, got, want)
				}
				continue
			}
		case 1: // near 1, the polynomial branch
			x = 1 + (r.Float64()-0.5)*0x1p-3
		default:
			x = r.Float64() * 10
		}
		if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
			continue
		}
		got, want := Log(x), math.Log(x)
		if math.Signbit(got) != math.Signbit(want) && got != 0 && want != 0 {
			t.Fatalf("Log(%v) = %v, math.Log %v: signs differ", x, got, want)
		}
		if ulps(got, want) > 1 {
			t.Fatalf("Log(%v [%#x]) = %v, math.Log %v: %d ulp apart", x, math.Float64bits(x), got, want, ulps(got, want))
		}
	}
}
