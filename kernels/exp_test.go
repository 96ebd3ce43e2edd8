package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels/internal/expc"
)

// expRef is the scalar exp that defines Exp's semantics (exp32, exp64).
func expRef[T Float](x T) T { return expScalar(x) }

func TestExp(t *testing.T) { both(t, testExp[float32], testExp[float64]) }

// The assembly evaluates the same operations (FMA for FMA) as the generic
// exp32/exp64, so every result must match bit for bit (NaN in gives NaN out;
// its payload is not specified).
func testExp[T Float](t *testing.T) {
	lo := -750.0
	if dtype.Is32[T]() {
		lo = -100
	}
	forLevels(t, kExp, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, sp := range []bool{false, true} {
			for _, n := range testLens {
				for off := 0; off <= maxOffset; off++ {
					x := guarded[T](n, off)
					for i := range x.S {
						x.S[i] = T(lo + (10-lo)*r.Float64())
					}
					if sp {
						withSpecials(r, x.S)
					}
					x0 := clone(x.S)
					d := guarded[T](n, (off+3)%8)
					Exp(d.S, x.S)
					for i := range x0 {
						if w := expRef(x0[i]); !sameBits(d.S[i], w) && !(w != w && d.S[i] != d.S[i]) {
							t.Fatalf("n=%d off=%d: Exp(%v) = %v, want %v", n, off, x0[i], d.S[i], w)
						}
					}
					d.check(t, "Exp")
					checkUnmodified(t, "Exp x", x.S, x0)
					// In place.
					Exp(x.S, x.S)
					for i := range x0 {
						if !sameBits(x.S[i], d.S[i]) && !(x.S[i] != x.S[i] && d.S[i] != d.S[i]) {
							t.Fatalf("n=%d: in-place Exp(%v) = %v, want %v", n, x0[i], x.S[i], d.S[i])
						}
					}
					x.check(t, "Exp in place")
				}
			}
		}
	})
}

func TestExpSpecial(t *testing.T) { both(t, testExpSpecial[float32], testExpSpecial[float64]) }

func testExpSpecial[T Float](t *testing.T) {
	lo, hi := T(expc.Lo64), T(expc.Hi64)
	minNormal := 0x1p-1022
	if dtype.Is32[T]() {
		lo, hi = T(expc.Lo32), T(expc.Hi32)
		minNormal = 0x1p-126
	}
	nextDown := func(v T) T {
		if dtype.Is32[T]() {
			return T(math.Nextafter32(float32(v), float32(math.Inf(-1))))
		}
		return T(math.Nextafter(float64(v), math.Inf(-1)))
	}
	var tiny T
	if dtype.Is32[T]() {
		tiny = T(math.Float32frombits(1))
	} else {
		tiny = T(math.Float64frombits(1))
	}
	forLevels(t, kExp, func(t *testing.T) {
		cases := []struct {
			x, want T
		}{
			{0, 1}, {T(math.Copysign(0, -1)), 1}, {tiny, 1}, {-tiny, 1},
			{T(math.Inf(-1)), 0}, {T(math.Inf(1)), T(math.Inf(1))},
			{nextDown(lo), 0}, {-1e4, 0}, {hi + 1, T(math.Inf(1))},
		}
		for _, c := range cases {
			d := []T{c.x}
			Exp(d, d)
			if !sameBits(d[0], c.want) {
				t.Errorf("Exp(%v) = %v, want %v", c.x, d[0], c.want)
			}
		}
		d := []T{T(math.NaN()), lo, hi}
		Exp(d, d)
		if d[0] == d[0] {
			t.Errorf("Exp(NaN) = %v", d[0])
		}
		if float64(d[1]) < minNormal || math.IsInf(float64(d[1]), 0) {
			t.Errorf("Exp(lo=%v) = %v, want a normal number", lo, d[1])
		}
		if math.IsInf(float64(d[2]), 0) {
			t.Errorf("Exp(hi=%v) = %v, want finite", hi, d[2])
		}
	})
}

// TestExpAccuracy measures the max error over the domain softmax uses
// (x <= 0 down to the flush threshold) at every level, and checks that no
// result is subnormal; at the assembly levels it also checks the float32
// results bit for bit against the generic exp32. NNKERN_EXP_EXHAUSTIVE=1 makes the float32 sweep
// cover every float32 in the domain (about a minute).
func TestExpAccuracy(t *testing.T) {
	t.Run("f64", func(t *testing.T) {
		forLevels(t, kExp, func(t *testing.T) {
			r := rand.New(rand.NewPCG(41, 42))
			const n = 1 << 21
			x := make([]float64, n)
			for i := range x {
				switch i % 4 {
				case 0, 1: // uniform over the domain
					x[i] = expc.Lo64 * r.Float64()
				case 2: // small magnitudes, every binade down to 2^-60
					x[i] = -math.Ldexp(1+r.Float64(), -r.IntN(60))
				case 3: // near 0 and near the threshold
					if r.IntN(2) == 0 {
						x[i] = -r.Float64() * 1e-3
					} else {
						x[i] = expc.Lo64 + r.Float64()
					}
				}
			}
			x[0], x[1] = 0, expc.Lo64
			y := make([]float64, n)
			Exp(y, x)
			var maxUlp uint64
			worst := 0.0
			for i, v := range x {
				m := math.Exp(v)
				if y[i] != 0 && y[i] < 0x1p-1022 {
					t.Fatalf("Exp(%v) = %v is subnormal", v, y[i])
				}
				d := ulpDist64(y[i], m)
				if d > maxUlp {
					maxUlp, worst = d, v
				}
			}
			t.Logf("float64 Exp over [%v, 0], %d points: max %d ulp from math.Exp (at x=%v)", expc.Lo64, n, maxUlp, worst)
			if maxUlp > 2 {
				t.Fatalf("max error %d ulp > 2 (x=%v)", maxUlp, worst)
			}
		})
	})
	t.Run("f32", func(t *testing.T) {
		stride := uint32(61)
		if os.Getenv("NNKERN_EXP_EXHAUSTIVE") == "1" {
			stride = 1
		}
		forLevels(t, kExp, func(t *testing.T) {
			// Every stride-th float32 in [Lo32, -0] by bit pattern.
			end := math.Float32bits(expc.Lo32)
			const chunk = 1 << 16
			x := make([]float32, 0, chunk)
			y := make([]float32, chunk)
			var maxUlp uint32
			maxErr, worst, count := 0.0, float32(0), 0
			flush := func() {
				y := y[:len(x)]
				Exp(y, x)
				for i, v := range x {
					if ISA() >= AVX2 {
						if g := exp32(v); !sameBits(y[i], g) {
							t.Fatalf("Exp(%v) = %v, generic exp32 %v", v, y[i], g)
						}
					}
					e := math.Exp(float64(v))
					if y[i] != 0 && y[i] < 0x1p-126 {
						t.Fatalf("Exp(%v) = %v is subnormal", v, y[i])
					}
					cr := float32(e)
					if d := ulpDist32(y[i], cr); d > maxUlp {
						maxUlp, worst = d, v
					}
					// Error in ulps of the exact value (math.Exp's 1e-16
					// relative error is negligible at float32 scale).
					ulp := float64(math.Nextafter32(cr, float32(math.Inf(1))) - cr)
					if err := math.Abs(float64(y[i])-e) / ulp; err > maxErr {
						maxErr = err
					}
				}
				count += len(x)
				x = x[:0]
			}
			for b := uint32(0x80000000); b <= end; b += stride {
				x = append(x, math.Float32frombits(b))
				if len(x) == chunk {
					flush()
				}
			}
			flush()
			t.Logf("float32 Exp over [%v, 0], %d points (every %d-th float32): max %d ulp from the correctly rounded value (at x=%v); max error %.3f ulp of the exact value",
				float32(expc.Lo32), count, stride, maxUlp, worst, maxErr)
			if maxUlp > 2 || maxErr > 1.5 {
				t.Fatalf("max error %d ulp (%.3f) > 2", maxUlp, maxErr)
			}
		})
	})
}

func ulpDist64(a, b float64) uint64 {
	x, y := math.Float64bits(a), math.Float64bits(b)
	if x > y {
		return x - y
	}
	return y - x
}

func ulpDist32(a, b float32) uint32 {
	x, y := math.Float32bits(a), math.Float32bits(b)
	if x > y {
		return x - y
	}
	return y - x
}

// TestFMA32 checks the float32 fused multiply-add emulation the generic
// exp uses against exact big.Float arithmetic, on random operands and on
// operands built so that a·b+c rounded to float64 lands exactly on a float32
// midpoint (where naive double rounding goes wrong).
func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(300).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(300).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(300).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := fma32(a, b, c), exact(a, b, c); !sameBits(got, want) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
	// The textbook double-rounding case: exact = 1+2⁻²³+2⁻²⁴−2⁻⁷⁰.
	check(1+0x1p-23, 0x1p-24*(1-0x1p-23), 1+0x1p-23)
	naiveWrong := 0
	for i := 0; i < 50000; i++ {
		check(float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64()*math.Ldexp(1, r.IntN(40)-20)))
		// Near-midpoint operands.
		k := float32(1 + r.IntN(255))
		c := float32(1 + r.Float64())
		sgn := float32(1 - 2*r.IntN(2))
		e := math.Ldexp(1, r.IntN(20)-10)
		a := (1 + k*0x1p-23) * float32(e)
		b := sgn * float32(0x1p-24*(1-float64(k)*0x1p-23)/e)
		check(a, b, c)
		check(-a, b, -c)
		if float32(float64(a)*float64(b)+float64(c)) != exact(a, b, c) {
			naiveWrong++
		}
	}
	if naiveWrong == 0 {
		t.Fatal("the near-midpoint cases never defeat naive double rounding: the test does not exercise the slow path")
	}
	t.Logf("%d near-midpoint cases where naive double rounding is wrong", naiveWrong)
}
