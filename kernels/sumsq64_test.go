package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
)

// sq64 is SumSq64's documented term: the exact square of a float32 in
// float64, or a float64's square rounded to float64.
func sq64[T Float](v T) float64 {
	if dtype.Is32[T]() {
		return float64(v) * float64(v)
	}
	return float64(v * v)
}

// sumSq64Ref is SumSq64 written out plainly: the canonical order of 32
// float64 partial sums and the full halving tree (canonRef).
func sumSq64Ref[T Float](x []T) float64 {
	return canonRef(len(x), func(i int, p float64) float64 { return p + sq64(x[i]) })
}

// sumSq64Specials are the special values SumSq64's inputs get: ±Inf, NaN,
// ±0, subnormals, and the largest finite values (whose squares overflow a
// float32 but not a float64, and overflow a float64).
func sumSq64Specials[T Float]() []T {
	sp := specials[T]()
	if dtype.Is32[T]() {
		return append(sp, math.MaxFloat32, -math.MaxFloat32, T(math.Float32frombits(0x007fffff)), 1e-20)
	}
	maxf := math.MaxFloat64 // a variable: the constant does not convert to float32
	return append(sp, T(maxf), T(math.Float64frombits(0x000fffffffffffff)), T(math.Sqrt(maxf)))
}

// TestSumSq64: at every level, the bits of the canonical order written out
// plainly (and so of the generic Go), over lengths 0..300, 1023 and one of
// the size of the two-layer net's 3072×200 W1, misalignments 0..15, with
// and without special values; the assembly of the level really runs.
func TestSumSq64(t *testing.T) { both(t, testSumSq64[float32], testSumSq64[float64]) }

func testSumSq64[T Float](t *testing.T) {
	sp := sumSq64Specials[T]()
	forLevels(t, kSumSq64, func(t *testing.T) {
		r := rand.New(rand.NewPCG(81, 82))
		check := func(what string, x []T) {
			t.Helper()
			got, want := SumSq64(x), sumSq64Ref(x)
			if !sameOrNaN(got, want) {
				t.Fatalf("%s n=%d: SumSq64 = %v (%#x), canonical order %v (%#x)", what, len(x), got, math.Float64bits(got), want, math.Float64bits(want))
			}
			if g := sumSq64Generic(x); !sameOrNaN(got, g) {
				t.Fatalf("%s n=%d: SumSq64 = %v, generic Go %v", what, len(x), got, g)
			}
		}
		lens := []int{1023}
		for n := 0; n <= 300; n++ {
			lens = append(lens, n)
		}
		for _, n := range lens {
			for off := 0; off <= 15; off++ {
				x := randVec[T](r, n, off)
				for i := range x.S {
					// Mixed magnitudes, so the order shows in the bits.
					x.S[i] *= T(math.Ldexp(1, r.IntN(41)-20))
				}
				x0 := clone(x.S)
				check("random", x.S)
				checkUnmodified(t, "SumSq64", x.S, x0)
				x.check(t, "SumSq64")
				if off%4 == 0 {
					for i := range x.S {
						if r.IntN(4) == 0 {
							x.S[i] = sp[r.IntN(len(sp))]
						}
					}
					check("specials", x.S)
				}
			}
		}
		// One special value alone at every position of a short vector.
		for _, v := range sp {
			for n := 1; n <= 40; n++ {
				x := randVec[T](r, n, n%16)
				x.S[r.IntN(n)] = v
				check("special "+typeName[T](), x.S)
			}
		}
		big := randVec[T](r, 3072*200+5, 3)
		check("3072·200+5", big.S)
	})
}

// TestSumSq64Accuracy: the generic Go against the exact sum (math/big) of
// the same terms. Every term is ≥ 0 and reaches the result through at
// most m = ⌈n/32⌉ − 1 additions into its partial sum and 5 of the tree,
// each rounding once; a float64 term is also rounded itself. So the error
// is at most γ_k·S with k = m + 5 (+1 for float64) and γ_k = k·u/(1−k·u),
// u = 2⁻⁵³ (Higham, Accuracy and Stability, §4.2).
func TestSumSq64Accuracy(t *testing.T) {
	both(t, testSumSq64Accuracy[float32], testSumSq64Accuracy[float64])
}

func testSumSq64Accuracy[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	for _, n := range []int{1, 2, 31, 32, 33, 100, 1000, 4099, 20000} {
		x := make([]T, n)
		for i := range x {
			x[i] = T(r.NormFloat64() * math.Ldexp(1, r.IntN(21)-10))
		}
		exact := new(big.Float).SetPrec(4096)
		for _, v := range x {
			f := new(big.Float).SetPrec(4096).SetFloat64(float64(v))
			exact.Add(exact, f.Mul(f, f))
		}
		S, _ := exact.Float64()
		k := (n+31)/32 - 1 + 5
		if !dtype.Is32[T]() {
			k++
		}
		u := 0x1p-53
		tol := float64(k) * u / (1 - float64(k)*u) * S
		got := sumSq64Generic(x)
		e := new(big.Float).SetPrec(4096).SetFloat64(got)
		d, _ := e.Sub(e, exact).Float64()
		if !(math.Abs(d) <= tol) {
			t.Errorf("n=%d: SumSq64 %v, exact %v: error %g > bound %g", n, got, S, math.Abs(d), tol)
		}
	}
}

// BenchmarkSumSq64 is SumSq64 on the two-layer net's 3072×200 W1.
func BenchmarkSumSq64(b *testing.B) {
	b.Run("f32", benchSumSq64[float32])
	b.Run("f64", benchSumSq64[float64])
}

func benchSumSq64[T Float](b *testing.B) {
	const n = 3072 * 200
	x := benchVec[T](n, -0.01, 0.01)
	benchLevels(b, func(b *testing.B) {
		b.Run("n=614400", func(b *testing.B) {
			b.SetBytes(int64(n * elemSize[T]()))
			for i := 0; i < b.N; i++ {
				sink64 += SumSq64(x)
			}
			report(b, n, 2)
		})
	})
}
