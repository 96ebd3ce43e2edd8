package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// The level-1/2 routines on every backend and ISA level (impls), against
// float64 references: odd sizes, strided views with NaN guards around them,
// alpha/beta including 0, and the BLAS rules for zeros (beta == 0 never
// reads y; alpha == 0 never reads A, x; Scal by 0 overwrites NaNs).

func TestAxpyScalConformance(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testAxpyScal[float32](t) })
	t.Run("f64", func(t *testing.T) { testAxpyScal[float64](t) })
}

func testAxpyScal[T float](t *testing.T) {
	eps := epsOf[T]()
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func() T { return T(rng.Float64()*2 - 1) }
	for _, sh := range [][2]int{{0, 0}, {0, 5}, {3, 0}, {1, 1}, {1, 67}, {7, 3}, {5, 33}, {200, 10}, {13, 257}} {
		for _, pad := range []int{0, 3} {
			for _, alpha := range []float64{0, 1, -0.5, 2, 1.5} {
				x, xbuf := guardedMatrix(sh[0], sh[1], pad, fill)
				y0, _ := guardedMatrix(sh[0], sh[1], (pad+1)%4, fill)
				name := fmt.Sprintf("%dx%d/pad=%d/alpha=%v", sh[0], sh[1], pad, alpha)
				var genY, genS Matrix[T] // native/isa=generic's results
				for _, im := range genericFirst(impls()) {
					// Axpy
					y, ybuf := guardedMatrix(sh[0], sh[1], (pad+1)%4, func() T { return 0 })
					for i := 0; i < y.Rows; i++ {
						copy(y.Row(i), y0.Row(i))
					}
					xSave, ySave := append([]T(nil), xbuf...), append([]T(nil), ybuf...)
					im.with(t, func() { Axpy(T(alpha), x, y) })
					for i := 0; i < y.Rows; i++ {
						for j := 0; j < y.Cols; j++ {
							want := float64(y0.At(i, j)) + alpha*float64(x.At(i, j))
							mag := math.Abs(float64(y0.At(i, j))) + math.Abs(alpha*float64(x.At(i, j)))
							if got := float64(y.At(i, j)); !(math.Abs(got-want) <= 2*eps*mag) {
								t.Fatalf("%s Axpy %s: Y[%d,%d] = %v, want %v", im.name, name, i, j, got, want)
							}
						}
					}
					checkOutside(t, im.name+" Axpy "+name, y, ybuf, ySave)
					genY = checkSameAsGeneric(t, im, "Axpy "+name, y, genY)
					if !sameSlice(xbuf, xSave) {
						t.Fatalf("%s Axpy %s: X modified", im.name, name)
					}
					// Scal (a NaN in the view is overwritten when alpha == 0)
					s, sbuf := guardedMatrix(sh[0], sh[1], pad, func() T { return 0 })
					for i := 0; i < s.Rows; i++ {
						copy(s.Row(i), x.Row(i))
					}
					if alpha == 0 && s.Rows > 0 && s.Cols > 0 {
						s.Set(0, 0, T(math.NaN()))
					}
					sSave := append([]T(nil), sbuf...)
					im.with(t, func() { Scal(T(alpha), s) })
					for i := 0; i < s.Rows; i++ {
						for j := 0; j < s.Cols; j++ {
							want := alpha * float64(x.At(i, j))
							if got := float64(s.At(i, j)); !(math.Abs(got-want) <= eps*math.Abs(want)) {
								t.Fatalf("%s Scal %s: X[%d,%d] = %v, want %v", im.name, name, i, j, got, want)
							}
						}
					}
					checkOutside(t, im.name+" Scal "+name, s, sbuf, sSave)
					genS = checkSameAsGeneric(t, im, "Scal "+name, s, genS)
				}
			}
		}
	}
}

// checkSameAsGeneric returns got if im is the native backend's generic
// level (the reference, run first), else gen after checking that a native
// im's result got has gen's bits (the numerical contract).
func checkSameAsGeneric[T float](t *testing.T, im impl, what string, got, gen Matrix[T]) Matrix[T] {
	t.Helper()
	if im.backend != "native" {
		return gen
	}
	if im.isa == kernels.Generic && im.procs == 0 && im.pack == 0 {
		return got
	}
	if i, j, ok := sameMatrix(got, gen); !ok {
		t.Errorf("%s %s: [%d,%d] = %v (%#x), native/isa=generic gives %v (%#x)",
			im.name, what, i, j, got.At(i, j), bitsOf(got.At(i, j)), gen.At(i, j), bitsOf(gen.At(i, j)))
	}
	return gen
}

// checkOutside fails if an element of buf outside m's view changed.
func checkOutside[T float](t *testing.T, what string, m Matrix[T], buf, save []T) {
	t.Helper()
	for i := range buf {
		off := i - 7
		in := m.Rows > 0 && m.Cols > 0 && off >= 0 && off/m.Stride < m.Rows && off%m.Stride < m.Cols
		if !in && !sameBits(buf[i], save[i]) {
			t.Fatalf("%s: element %d outside the view changed to %v", what, i, buf[i])
		}
	}
}

func TestGemvConformance(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testGemv[float32](t) })
	t.Run("f64", func(t *testing.T) { testGemv[float64](t) })
}

func testGemv[T float](t *testing.T) {
	dotDiffs := 0
	defer func() {
		if dotDiffs > 0 {
			t.Logf("%d elements of y from Gemv without transposition differ between ISA levels because kernels.Dot does (on the same row); the rest is bit-identical", dotDiffs)
		}
	}()
	eps := epsOf[T]()
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func() T { return T(rng.Float64()*2 - 1) }
	nan := T(math.NaN())
	for _, sh := range [][2]int{{0, 0}, {0, 4}, {4, 0}, {1, 1}, {1, 37}, {37, 1}, {7, 9}, {200, 10}, {10, 200}, {65, 3073}} {
		for _, tA := range []bool{false, true} {
			for _, ab := range [][2]float64{{1, 0}, {1, 1}, {-0.5, 2}, {2, -0.5}, {0, 2}, {0, 0}, {1.5, -0.75}, {-0.75, 0}} {
				alpha, beta := ab[0], ab[1]
				a, abuf := guardedMatrix(sh[0], sh[1], 3, fill)
				r, c := sh[0], sh[1]
				if tA {
					r, c = c, r
				}
				x := make([]T, c)
				for i := range x {
					x[i] = fill()
				}
				if alpha == 0 && len(x) > 0 {
					x[0] = nan // alpha == 0: x and A are not read
					if a.Rows > 0 && a.Cols > 0 {
						a.Set(0, 0, nan)
					}
				}
				y0 := make([]T, r)
				for i := range y0 {
					y0[i] = fill()
					if beta == 0 {
						y0[i] = nan // beta == 0: y is not read
					}
				}
				want, mag := make([]float64, r), make([]float64, r)
				for i := 0; i < r; i++ {
					if beta != 0 {
						want[i] = beta * float64(y0[i])
						mag[i] = math.Abs(want[i])
					}
					if alpha == 0 {
						continue
					}
					for p := 0; p < c; p++ {
						var av T
						if tA {
							av = a.At(p, i)
						} else {
							av = a.At(i, p)
						}
						v := alpha * float64(av) * float64(x[p])
						want[i] += v
						mag[i] += math.Abs(v)
					}
				}
				name := fmt.Sprintf("%dx%d/tA=%v/alpha=%v/beta=%v", sh[0], sh[1], tA, alpha, beta)
				aSave, xSave := append([]T(nil), abuf...), append([]T(nil), x...)
				tol := float64(c+4) * eps
				var genY, genDot []T // native/isa=generic's y and row dot products
				for _, im := range genericFirst(impls()) {
					y := append([]T(nil), y0...)
					var dots []T
					im.with(t, func() {
						Gemv(tA, T(alpha), a, x, T(beta), y)
						if im.backend == "native" && !tA && alpha != 0 && c > 0 {
							dots = make([]T, r)
							for i := range dots {
								dots[i] = kernels.Dot(a.Row(i), x)
							}
						}
					})
					if im.backend == "native" {
						if im.isa == kernels.Generic && im.procs == 0 && im.pack == 0 {
							genY, genDot = y, dots
						} else {
							for i := range y {
								if sameBits(y[i], genY[i]) {
									continue
								}
								if dots != nil && !sameBits(dots[i], genDot[i]) {
									// The kernels package's Dot, not this
									// package, differs between the levels.
									dotDiffs++
									continue
								}
								t.Errorf("%s Gemv %s: y[%d] = %v (%#x), native/isa=generic gives %v (%#x)",
									im.name, name, i, y[i], bitsOf(y[i]), genY[i], bitsOf(genY[i]))
								break
							}
						}
						// Without transposition y is updated from
						// kernels.Dot with Gemm's formula, exactly.
						for i, d := range dots {
							w := T(T(alpha) * d)
							if beta != 0 {
								w = kernels.FMA(T(alpha), d, T(T(beta)*y0[i]))
							}
							if !sameBits(y[i], w) {
								t.Errorf("%s Gemv %s: y[%d] = %v, want fma(alpha, Dot, beta·y) = %v", im.name, name, i, y[i], w)
								break
							}
						}
					}
					for i := range y {
						if got := float64(y[i]); !(math.Abs(got-want[i]) <= tol*mag[i]) {
							t.Fatalf("%s Gemv %s: y[%d] = %v, want %v (tol %.3g)", im.name, name, i, got, want[i], tol*mag[i])
						}
					}
					if !sameSlice(abuf, aSave) || !sameSlice(x, xSave) {
						t.Fatalf("%s Gemv %s: A or x modified", im.name, name)
					}
				}
			}
		}
	}
}

func TestLevel12Panics(t *testing.T) {
	a := NewMatrix[float64](3, 4)
	for _, tc := range []struct {
		f    func()
		want string
	}{
		{func() { Axpy(1, a, NewMatrix[float64](4, 3)) }, "blas.Axpy: shape mismatch: X 3×4, Y 4×3"},
		{func() { Axpy(1, a, Matrix[float64]{Rows: 3, Cols: 4, Stride: 2}) }, "blas.Axpy: Y"},
		{func() { Scal(2, Matrix[float64]{Rows: 2, Cols: 2, Stride: 2, Data: make([]float64, 3)}) }, "blas.Scal: X"},
		{func() { Gemv(false, 1, a, make([]float64, 3), 0, make([]float64, 3)) }, "blas.Gemv: shape mismatch: op(A) 3×4 (transA=false), len(x) = 3, len(y) = 3"},
		{func() { Gemv(true, 1, a, make([]float64, 3), 0, make([]float64, 3)) }, "len(y) = 3"},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		}()
	}
}
