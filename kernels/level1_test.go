package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
)

// Tolerance of the reductions (Dot, Sum, SumSq): any summation order of n
// terms, each rounded at most once, is within γ_n·Σ|term| of the exact sum
// with γ_n = n·u/(1−n·u) (Higham, Accuracy and Stability, §3.1); the test
// allows (n+2)·u·Σ|term| (one more rounding for the product and one for
// the final conversion). Inputs of small integers make every order exact,
// and those results must match bit for bit. Products that underflow lose up
// to half the smallest subnormal each, so n of those are allowed on top.
func reductionTol[T Float](n int, abs float64) float64 {
	tiny := float64(math.SmallestNonzeroFloat64)
	if dtype.Is32[T]() {
		tiny = math.SmallestNonzeroFloat32
	}
	return float64(n+2)*eps[T]()*abs + float64(n)*tiny
}

func TestDot(t *testing.T) { both(t, testDot[float32], testDot[float64]) }

func testDot[T Float](t *testing.T) {
	forLevels(t, kDot, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range testLens {
			for off := 0; off <= maxOffset; off++ {
				x, y := randVec[T](r, n, off), randVec[T](r, n, (off+3)%8)
				x0, y0 := clone(x.S), clone(y.S)
				got := Dot(x.S, y.S)
				var ref, abs float64
				for i := range x.S {
					p := float64(x.S[i]) * float64(y.S[i])
					ref += p
					abs += math.Abs(p)
				}
				if d := math.Abs(float64(got) - ref); d > reductionTol[T](n, abs) {
					t.Fatalf("n=%d off=%d: Dot=%v, float64 reference %v, |diff| %g > tol %g", n, off, got, ref, d, reductionTol[T](n, abs))
				}
				checkUnmodified(t, "Dot x", x.S, x0)
				checkUnmodified(t, "Dot y", y.S, y0)
				xi, yi := intVec[T](r, n, off), intVec[T](r, n, 7-off)
				var exact T
				for i := range xi.S {
					exact += xi.S[i] * yi.S[i]
				}
				if got := Dot(xi.S, yi.S); got != exact {
					t.Fatalf("n=%d off=%d: integer Dot=%v, want exactly %v", n, off, got, exact)
				}
			}
		}
		// Special values: NaN and Inf propagate as in the sequential sum.
		for trial := 0; trial < 500; trial++ {
			n := 1 + r.IntN(70)
			x, y := randVec[T](r, n, 0), randVec[T](r, n, 0)
			withSpecials(r, x.S)
			clampBig(x.S)
			got := Dot(x.S, y.S)
			var ref, abs float64
			for i := range x.S {
				p := float64(x.S[i]) * float64(y.S[i])
				ref += p
				abs += math.Abs(p)
			}
			checkSpecial(t, "Dot", x.S, got, ref, reductionTol[T](n, abs))
		}
	})
}

// clampBig replaces the huge specials (whose sums overflow in an
// order-dependent way) by 1.
func clampBig[T Float](x []T) {
	for i, v := range x {
		if !math.IsInf(float64(v), 0) && math.Abs(float64(v)) > 1e30 {
			x[i] = 1
		}
	}
}

// checkSpecial compares a reduction over inputs with special values with
// its float64 reference: NaN iff the reference is NaN, the same infinity,
// or within tol.
func checkSpecial[T Float](t *testing.T, what string, x []T, got T, ref, tol float64) {
	t.Helper()
	g := float64(got)
	switch {
	case math.IsNaN(ref):
		if !math.IsNaN(g) {
			t.Fatalf("%s(%v) = %v, want NaN", what, x, got)
		}
	case math.IsInf(ref, 0):
		if g != ref {
			t.Fatalf("%s(%v) = %v, want %v", what, x, got, ref)
		}
	default:
		if math.Abs(g-ref) > tol {
			t.Fatalf("%s(%v) = %v, want %v ± %g", what, x, got, ref, tol)
		}
	}
}

func TestSum(t *testing.T) {
	both(t, testReduce[float32](kSum, Sum[float32], func(v float64) float64 { return v }),
		testReduce[float64](kSum, Sum[float64], func(v float64) float64 { return v }))
}

func TestSumSq(t *testing.T) {
	both(t, testReduce[float32](kSumSq, SumSq[float32], func(v float64) float64 { return v * v }),
		testReduce[float64](kSumSq, SumSq[float64], func(v float64) float64 { return v * v }))
}

func testReduce[T Float](k kernelID, f func([]T) T, term func(float64) float64) func(t *testing.T) {
	return func(t *testing.T) {
		forLevels(t, k, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			for _, n := range testLens {
				for off := 0; off <= maxOffset; off++ {
					x := randVec[T](r, n, off)
					x0 := clone(x.S)
					got := f(x.S)
					var ref, abs float64
					for _, v := range x.S {
						ref += term(float64(v))
						abs += math.Abs(term(float64(v)))
					}
					if d := math.Abs(float64(got) - ref); d > reductionTol[T](n, abs) {
						t.Fatalf("n=%d off=%d: %s=%v, reference %v, |diff| %g > tol %g", n, off, kernelNames[k], got, ref, d, reductionTol[T](n, abs))
					}
					checkUnmodified(t, kernelNames[k], x.S, x0)
					xi := intVec[T](r, n, off)
					var exact T
					for _, v := range xi.S {
						exact += T(term(float64(v)))
					}
					if got := f(xi.S); got != exact {
						t.Fatalf("n=%d off=%d: integer %s=%v, want exactly %v", n, off, kernelNames[k], got, exact)
					}
				}
			}
			for trial := 0; trial < 500; trial++ {
				n := 1 + r.IntN(70)
				x := randVec[T](r, n, 0)
				withSpecials(r, x.S)
				clampBig(x.S)
				var ref, abs float64
				for _, v := range x.S {
					ref += term(float64(v))
					abs += math.Abs(term(float64(v)))
				}
				checkSpecial(t, kernelNames[k], x.S, f(x.S), ref, reductionTol[T](n, abs))
			}
			if got := f(nil); got != 0 || math.Signbit(float64(got)) {
				t.Fatalf("%s(nil) = %v, want +0", kernelNames[k], got)
			}
		})
	}
}

// testElementwise checks an in-place kernel dst = op(dst, x) bit for bit
// against a naive reference computed in T (the operation order is the
// same, so the bits must be).
func testElementwise[T Float](k kernelID, call func(d, x []T), ref func(d, x T) T) func(t *testing.T) {
	return func(t *testing.T) {
		forLevels(t, k, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			for _, sp := range []bool{false, true} {
				for _, n := range testLens {
					for off := 0; off <= maxOffset; off++ {
						d, x := randVec[T](r, n, off), randVec[T](r, n, (off*5)%8)
						if sp {
							withSpecials(r, d.S)
							withSpecials(r, x.S)
						}
						d0, x0 := clone(d.S), clone(x.S)
						call(d.S, x.S)
						for i := range d.S {
							if w := ref(d0[i], x0[i]); !sameBits(d.S[i], w) {
								t.Fatalf("n=%d off=%d i=%d: %s(%v, %v) = %v, want %v", n, off, i, kernelNames[k], d0[i], x0[i], d.S[i], w)
							}
						}
						d.check(t, kernelNames[k])
						checkUnmodified(t, kernelNames[k]+" x", x.S, x0)
					}
				}
			}
		})
	}
}

func TestAxpy(t *testing.T) {
	both(t, testElementwise(kAxpy, func(d, x []float32) { Axpy(0.7, x, d) }, func(d, x float32) float32 { return d + float32(0.7*x) }),
		testElementwise(kAxpy, func(d, x []float64) { Axpy(0.7, x, d) }, func(d, x float64) float64 { return d + float64(0.7*x) }))
}

func TestScale(t *testing.T) {
	both(t, testElementwise(kScale, func(d, x []float32) { Scale(-1.3, d) }, func(d, x float32) float32 { return d * -1.3 }),
		testElementwise(kScale, func(d, x []float64) { Scale(-1.3, d) }, func(d, x float64) float64 { return d * -1.3 }))
}

func TestAddTo(t *testing.T) {
	both(t, testElementwise(kAddTo, AddTo[float32], func(d, x float32) float32 { return d + x }),
		testElementwise(kAddTo, AddTo[float64], func(d, x float64) float64 { return d + x }))
}

func TestSubFrom(t *testing.T) {
	both(t, testElementwise(kSubFrom, SubFrom[float32], func(d, x float32) float32 { return d - x }),
		testElementwise(kSubFrom, SubFrom[float64], func(d, x float64) float64 { return d - x }))
}

func TestMulTo(t *testing.T) {
	both(t, testElementwise(kMulTo, MulTo[float32], func(d, x float32) float32 { return d * x }),
		testElementwise(kMulTo, MulTo[float64], func(d, x float64) float64 { return d * x }))
}

func TestReLU(t *testing.T) {
	ref32 := func(d, x float32) float32 {
		if x < 0 {
			return 0
		}
		return x
	}
	ref64 := func(d, x float64) float64 {
		if x < 0 {
			return 0
		}
		return x
	}
	both(t, testElementwise(kReLU, ReLU[float32], ref32), testElementwise(kReLU, ReLU[float64], ref64))
}

func TestReLUBackward(t *testing.T) {
	ref32 := func(dh, h float32) float32 {
		if h <= 0 {
			return 0
		}
		return dh
	}
	ref64 := func(dh, h float64) float64 {
		if h <= 0 {
			return 0
		}
		return dh
	}
	both(t, testElementwise(kReLUBackward, ReLUBackward[float32], ref32), testElementwise(kReLUBackward, ReLUBackward[float64], ref64))
}

// TestReLUInPlace checks dst == x.
func TestReLUInPlace(t *testing.T) {
	forLevels(t, kReLU, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, n := range testLens {
			x := randVec[float32](r, n, n%8)
			withSpecials(r, x.S)
			want := make([]float32, n)
			reluGeneric(want, x.S)
			ReLU(x.S, x.S)
			for i := range want {
				if !sameBits(x.S[i], want[i]) {
					t.Fatalf("n=%d i=%d: in-place ReLU %v, want %v", n, i, x.S[i], want[i])
				}
			}
			x.check(t, "ReLU")
		}
	})
}

func TestMax(t *testing.T)    { both(t, testMax[float32], testMax[float64]) }
func TestArgMax(t *testing.T) { both(t, testArgMax[float32], testArgMax[float64]) }

// maxInput returns a guarded vector whose values tie often, hold zeros of
// both signs and sometimes NaNs with distinct payloads.
func maxInput[T Float](r *rand.Rand, n, off int, nan bool) gv[T] {
	x := guarded[T](n, off)
	for i := range x.S {
		switch r.IntN(10) {
		case 0:
			x.S[i] = T(math.Copysign(0, -1))
		case 1:
			x.S[i] = 0
		case 2:
			x.S[i] = T(math.Inf(-1))
		default:
			x.S[i] = T(r.IntN(9) - 6)
		}
	}
	if nan && n > 0 {
		for k := 0; k < 1+r.IntN(3); k++ {
			i := r.IntN(n)
			if dtype.Is32[T]() {
				x.S[i] = T(math.Float32frombits(0x7fc00000 | uint32(i+1)))
			} else {
				x.S[i] = T(math.Float64frombits(0x7ff8000000000000 | uint64(i+1)))
			}
		}
	}
	return x
}

// refArgMax and refMax restate the documented semantics (first NaN, else
// first element equal to the maximum, −0 == +0) in a different way than
// the generic loops, so that the isa=generic subtests test something too.
func refArgMax[T Float](x []T) int {
	if len(x) == 0 {
		return -1
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) {
			return i
		}
	}
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	for i, v := range x {
		if float64(v) == m {
			return i
		}
	}
	panic("unreachable")
}

func refMax[T Float](x []T) T {
	if len(x) == 0 {
		return T(math.Inf(-1))
	}
	return x[refArgMax(x)]
}

func testMax[T Float](t *testing.T) {
	forLevels(t, kMax, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, nan := range []bool{false, true} {
			for _, n := range testLens {
				for off := 0; off <= maxOffset; off++ {
					x := maxInput[T](r, n, off, nan)
					x0 := clone(x.S)
					got, want := Max(x.S), refMax(x.S)
					if !sameBits(got, want) {
						t.Fatalf("n=%d off=%d: Max(%v) = %v, want %v", n, off, x.S, got, want)
					}
					checkUnmodified(t, "Max", x.S, x0)
					y := randVec[T](r, n, off)
					if got, want := Max(y.S), refMax(y.S); !sameBits(got, want) {
						t.Fatalf("n=%d off=%d: Max(random) = %v, want %v", n, off, got, want)
					}
					// ±Inf, NaN, ±0, denormals, huge and tiny values.
					withSpecials(r, y.S)
					if got, want := Max(y.S), refMax(y.S); !sameBits(got, want) {
						t.Fatalf("n=%d off=%d: Max(%v) = %v, want %v", n, off, y.S, got, want)
					}
				}
			}
		}
	})
}

func testArgMax[T Float](t *testing.T) {
	forLevels(t, kArgMax, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, nan := range []bool{false, true} {
			for _, n := range testLens {
				for off := 0; off <= maxOffset; off++ {
					x := maxInput[T](r, n, off, nan)
					x0 := clone(x.S)
					if got, want := ArgMax(x.S), refArgMax(x.S); got != want {
						t.Fatalf("n=%d off=%d: ArgMax(%v) = %d, want %d", n, off, x.S, got, want)
					}
					checkUnmodified(t, "ArgMax", x.S, x0)
					y := randVec[T](r, n, off)
					if got, want := ArgMax(y.S), refArgMax(y.S); got != want {
						t.Fatalf("n=%d off=%d: ArgMax(random) = %d, want %d", n, off, got, want)
					}
					withSpecials(r, y.S)
					if got, want := ArgMax(y.S), refArgMax(y.S); got != want {
						t.Fatalf("n=%d off=%d: ArgMax(%v) = %d, want %d", n, off, y.S, got, want)
					}
				}
			}
		}
	})
}

func TestLengthPanics(t *testing.T) {
	for _, l := range Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer SetISA(l)()
			a, b := make([]float32, 3), make([]float32, 4)
			mustPanic(t, func() { Dot(a, b) }, "kernels.Dot", "len(x)=3", "len(y)=4")
			mustPanic(t, func() { Axpy(1, a, b) }, "kernels.Axpy", "len(x)=3", "len(y)=4")
			mustPanic(t, func() { AddTo(a, b) }, "kernels.AddTo", "len(dst)=3", "len(x)=4")
			mustPanic(t, func() { SubFrom(a, b) }, "kernels.SubFrom", "len(dst)=3", "len(x)=4")
			mustPanic(t, func() { MulTo(a, b) }, "kernels.MulTo", "len(dst)=3", "len(x)=4")
			mustPanic(t, func() { ReLU(a, b) }, "kernels.ReLU", "len(dst)=3", "len(x)=4")
			mustPanic(t, func() { ReLUBackward(a, b) }, "kernels.ReLUBackward", "len(dh)=3", "len(h)=4")
			mustPanic(t, func() { Exp(a, b) }, "kernels.Exp", "len(dst)=3", "len(x)=4")
			mustPanic(t, func() { U8ToFloat(a, make([]uint8, 4), b) }, "kernels.U8ToFloat", "len(dst)=3", "len(src)=4")
			mustPanic(t, func() { U8ToFloat(b, make([]uint8, 4), a) }, "kernels.U8ToFloat", "len(mean)=3", "len(src)=4")
			m := make([]float64, 11)
			mustPanic(t, func() { AddBias(m, 3, 4, 4, make([]float64, 4)) }, "kernels.AddBias", "m: len=11", "rows=3 cols=4 stride=4")
			mustPanic(t, func() { AddBias(m, 2, 4, 4, make([]float64, 3)) }, "kernels.AddBias", "len(b)=3 != cols=4")
			mustPanic(t, func() { BiasReLU(m, 2, 4, 3, make([]float64, 4)) }, "kernels.BiasReLU", "rows=2 cols=4 stride=3")
			mustPanic(t, func() { ColSum(make([]float64, 5), m, 2, 4, 4) }, "kernels.ColSum", "len(dst)=5 != cols=4")
			mustPanic(t, func() { RowMax(make([]float64, 1), m, 2, 4, 4) }, "kernels.RowMax", "len(dst)=1 != rows=2")
			mustPanic(t, func() { SoftmaxRows(m, m, 3, 4, 4) }, "kernels.SoftmaxRows", "s: len=11")
			mustPanic(t, func() { SoftmaxRows(make([]float64, 7), m, 2, 4, 4) }, "kernels.SoftmaxRows", "p: len=7")
			mustPanic(t, func() { SoftmaxCERows(m, m, 2, 4, 4, []int{0}, 1) }, "kernels.SoftmaxCERows", "len(y)=1 != rows=2")
			mustPanic(t, func() { SoftmaxCERows(m, m, 2, 4, 4, []int{0, 4}, 1) }, "kernels.SoftmaxCERows", "y[1]=4 outside [0,4)")
			mustPanic(t, func() { SoftmaxCERows(m, m, 2, 4, 4, []int{-1, 0}, 1) }, "kernels.SoftmaxCERows", "y[0]=-1")
			mustPanic(t, func() { HingeRows(m, m, 2, 4, 4, []int{0, 9}, 1) }, "kernels.HingeRows", "y[1]=9 outside [0,4)")
			mustPanic(t, func() { HingeRows(m, m, 2, 4, 4, []int{0}, 1) }, "kernels.HingeRows", "len(y)=1 != rows=2")
		})
	}
}
