package fused

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/kernels"
)

// naive is the float64 oracle of MulAdd: it returns the exact-ish sums
// Σ_p a·b (accumulated in float64) and Σ_p |a·b| for the error bound.
func naive[T kernels.Float](m, n, k int, a []T, ai, ap int, b []T, ldb int) (sum, abs []float64) {
	sum = make([]float64, m*n)
	abs = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, t float64
			for p := 0; p < k; p++ {
				// float64(·): the product rounded on its own, never fused
				// into the sum (no x*y + z in this package outside
				// kernels.FMA; the compiler may fuse it under GOAMD64=v3)
				v := float64(float64(a[i*ai+p*ap]) * float64(b[p*ldb+j]))
				s += v
				t += math.Abs(v)
			}
			sum[i*n+j], abs[i*n+j] = s, t
		}
	}
	return sum, abs
}

const guard = 5

func testMulAdd[T kernels.Float](t *testing.T, rng *rand.Rand, m, n, k, off int, gradMode bool) {
	t.Helper()
	eps := math.Nextafter(1, 2) - 1
	var z T
	if unsafe.Sizeof(z) == 4 {
		eps = float64(math.Nextafter32(1, 2) - 1)
	}
	// A is an m×k view of a rows×cols matrix X: scores mode reads X as
	// rows=m, cols=k (ai=ldx, ap=1); gradient mode as X (k×m) transposed.
	var ai, ap, ldx, xrows int
	if gradMode {
		ldx = m + off + rng.IntN(3)
		ai, ap, xrows = 1, ldx, k
	} else {
		ldx = k + off + rng.IntN(3)
		ai, ap, xrows = ldx, 1, m
	}
	fill := func(s []T) {
		for i := range s {
			s[i] = T(rng.NormFloat64())
		}
	}
	abuf := make([]T, off+xrows*ldx+guard)
	fill(abuf)
	a := abuf[off : off+max(0, (m-1)*ai+(k-1)*ap+1)]
	ldb := n + rng.IntN(2)*Width[T]()
	bbuf := make([]T, off+k*ldb+guard)
	fill(bbuf)
	b := bbuf[off : off+max(0, (k-1)*ldb+n)]
	ldc := n + rng.IntN(2)*3
	cbuf := make([]T, off+m*ldc+guard)
	for i := range cbuf {
		cbuf[i] = sNaN[T]()
	}
	c := cbuf[off : off+max(0, (m-1)*ldc+n)]
	c0 := make([]T, len(c))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			c0[i*ldc+j] = T(rng.NormFloat64())
			c[i*ldc+j] = c0[i*ldc+j]
		}
	}
	acopy, bcopy := slices.Clone(abuf), slices.Clone(bbuf)
	sum, abs := naive(m, n, k, a, ai, ap, b, ldb)
	cbuf0 := slices.Clone(cbuf)

	MulAdd(m, n, k, a, ai, ap, b, ldb, c, ldc)
	checkOrder(t, cbuf, cbuf0,
		func(cb []T) { MulAdd(m, n, k, a, ai, ap, b, ldb, cb[off:off+len(c)], ldc) },
		func(cb []T) { refMulAdd(m, n, k, a, ai, ap, b, ldb, cb[off:off+len(c)], ldc) })

	if !slices.Equal(acopy, abuf) || !slices.Equal(bcopy, bbuf) {
		t.Fatalf("inputs modified")
	}
	for i, v := range cbuf {
		ri := i - off
		inside := ri >= 0 && ri < m*ldc && ri%ldc < n && ri/ldc < m
		if !inside {
			if bits(v) != bits(cbuf0[i]) {
				t.Fatalf("guard/padding element %d of c written: %v (%#x)", i, v, bits(v))
			}
			continue
		}
		row, col := ri/ldc, ri%ldc
		want := float64(c0[ri]) + sum[row*n+col]
		// Recursive summation of k products plus the final add: error
		// <= (k+1)·eps·(Σ|a·b| + |c0|) (Higham's γ bound, first order);
		// the f32 output rounding adds eps·|want|.
		bound := float64(float64(k+2)*eps*(abs[row*n+col]+math.Abs(float64(c0[ri])))) + float64(eps*math.Abs(want))
		if d := math.Abs(float64(v) - want); !(d <= bound) {
			t.Fatalf("c[%d,%d] = %v, want %v (|diff| %g > bound %g)", row, col, v, want, d, bound)
		}
	}
}

func TestMulAdd(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(1, uint64(lvl)))
			for _, mode := range []bool{false, true} {
				for _, n := range []int{4, 8, 12, 16} {
					for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 25, 64} {
						for _, k := range []int{0, 1, 2, 3, 7, 16, 33, 100, 3073} {
							off := rng.IntN(4)
							name := fmt.Sprintf("grad=%v/m=%d/n=%d/k=%d/off=%d", mode, m, n, k, off)
							if n%Width[float64]() == 0 {
								t.Run("f64/"+name, func(t *testing.T) { testMulAdd[float64](t, rng, m, n, k, off, mode) })
							}
							if n%Width[float32]() == 0 {
								t.Run("f32/"+name, func(t *testing.T) { testMulAdd[float32](t, rng, m, n, k, off, mode) })
							}
						}
					}
				}
			}
		})
	}
}

func TestMulAddSpecialValues(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			// A NaN or Inf in a row of A reaches exactly that output row.
			m, n, k := 9, 16, 5
			a := make([]float64, m*k)
			b := make([]float64, k*n)
			for i := range a {
				a[i] = 1
			}
			for i := range b {
				b[i] = 1
			}
			a[2*k+3] = math.NaN()
			a[7*k+1] = math.Inf(1)
			c := make([]float64, m*n)
			MulAdd(m, n, k, a, k, 1, b, n, c, n)
			checkOrder(t, c, make([]float64, m*n),
				func(c []float64) { MulAdd(m, n, k, a, k, 1, b, n, c, n) },
				func(c []float64) { refMulAdd(m, n, k, a, k, 1, b, n, c, n) })
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					v := c[i*n+j]
					switch {
					case i == 2 && !math.IsNaN(v), i == 7 && !math.IsInf(v, 1), i != 2 && i != 7 && v != float64(k):
						t.Fatalf("c[%d,%d] = %v", i, j, v)
					}
				}
			}
		})
	}
}

// TestMulAddAwkwardValues checks the bits of every level against the
// documented order on inputs chosen to expose any difference in rounding
// or fusing (see awkward), with NaN guard bands around C.
func TestMulAddAwkwardValues(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(5, uint64(lvl)))
			for _, grad := range []bool{false, true} {
				for _, n := range []int{4, 8, 12, 16} {
					for _, m := range []int{1, 3, 8, 9, 13} {
						for _, k := range []int{1, 2, 7, 8, 9, 33, 100} {
							name := fmt.Sprintf("grad=%v/m=%d/n=%d/k=%d", grad, m, n, k)
							if n%Width[float64]() == 0 {
								t.Run("f64/"+name, func(t *testing.T) { testMulAddAwkward[float64](t, rng, m, n, k, grad) })
							}
							if n%Width[float32]() == 0 {
								t.Run("f32/"+name, func(t *testing.T) { testMulAddAwkward[float32](t, rng, m, n, k, grad) })
							}
						}
					}
				}
			}
		})
	}
}

func testMulAddAwkward[T kernels.Float](t *testing.T, rng *rand.Rand, m, n, k int, grad bool) {
	t.Helper()
	off := rng.IntN(4)
	ai, ap := k+rng.IntN(3), 1
	if grad {
		ai, ap = 1, m+rng.IntN(3)
	}
	a := make([]T, off+(m-1)*ai+(k-1)*ap+1)
	ldb := n + rng.IntN(2)*Width[T]()
	b := make([]T, off+(k-1)*ldb+n)
	for _, x := range [][]T{a, b} {
		for i := range x {
			x[i] = awkward[T](rng)
		}
	}
	a, b = a[off:], b[off:]
	ldc := n + rng.IntN(3)
	cbuf := make([]T, off+(m-1)*ldc+n+guard)
	inside := func(i int) bool { ri := i - off; return ri >= 0 && ri/ldc < m && ri%ldc < n }
	for i := range cbuf {
		cbuf[i] = sNaN[T]()
		if inside(i) {
			cbuf[i] = awkward[T](rng)
		}
	}
	cbuf0 := slices.Clone(cbuf)
	c := cbuf[off : off+(m-1)*ldc+n]
	MulAdd(m, n, k, a, ai, ap, b, ldb, c, ldc)
	checkGuards(t, cbuf, cbuf0, inside)
	checkOrder(t, cbuf, cbuf0,
		func(cb []T) { MulAdd(m, n, k, a, ai, ap, b, ldb, cb[off:off+len(c)], ldc) },
		func(cb []T) { refMulAdd(m, n, k, a, ai, ap, b, ldb, cb[off:off+len(c)], ldc) })
}

func TestMulAddPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"n not multiple", func() { MulAdd(1, 5, 1, make([]float64, 1), 1, 1, make([]float64, 5), 5, make([]float64, 5), 5) }},
		{"n too wide", func() { MulAdd(1, 24, 1, make([]float32, 1), 1, 1, make([]float32, 24), 24, make([]float32, 24), 24) }},
		{"short a", func() { MulAdd(2, 4, 3, make([]float64, 5), 3, 1, make([]float64, 12), 4, make([]float64, 8), 4) }},
		{"short b", func() { MulAdd(2, 4, 3, make([]float64, 6), 3, 1, make([]float64, 11), 4, make([]float64, 8), 4) }},
		{"short c", func() { MulAdd(2, 4, 3, make([]float64, 6), 3, 1, make([]float64, 12), 4, make([]float64, 7), 4) }},
		{"ldc < n", func() { MulAdd(2, 4, 3, make([]float64, 6), 3, 1, make([]float64, 12), 4, make([]float64, 8), 3) }},
	} {
		wantPanic(t, tc.name, "fused.MulAdd", tc.f)
	}
}

func BenchmarkMulAdd(b *testing.B) {
	// The softmax dev-set shapes: scores 500×3073 · 3073×cp and the
	// gradient 3073×500 · 500×cp; and the scores of the fused loss's block
	// of 32 rows, X_b in L2 (BenchmarkMulAddNT's cases beside them).
	for _, lvl := range kernels.Levels() {
		defer kernels.SetISA(lvl)()
		for _, c := range []int{10} {
			b.Run(fmt.Sprintf("f64/isa=%s/scores/500x3073x%d", lvl, c), func(b *testing.B) { benchMulAdd[float64](b, 500, 3073, c, false) })
			b.Run(fmt.Sprintf("f32/isa=%s/scores/500x3073x%d", lvl, c), func(b *testing.B) { benchMulAdd[float32](b, 500, 3073, c, false) })
			b.Run(fmt.Sprintf("f64/isa=%s/scores/32x3073x%d", lvl, c), func(b *testing.B) { benchMulAdd[float64](b, 32, 3073, c, false) })
			b.Run(fmt.Sprintf("f32/isa=%s/scores/32x3073x%d", lvl, c), func(b *testing.B) { benchMulAdd[float32](b, 32, 3073, c, false) })
			b.Run(fmt.Sprintf("f64/isa=%s/grad/500x3073x%d", lvl, c), func(b *testing.B) { benchMulAdd[float64](b, 500, 3073, c, true) })
			b.Run(fmt.Sprintf("f32/isa=%s/grad/500x3073x%d", lvl, c), func(b *testing.B) { benchMulAdd[float32](b, 500, 3073, c, true) })
		}
	}
}

func benchMulAdd[T kernels.Float](b *testing.B, rows, d, c int, grad bool) {
	cp := PadCols[T](c)
	x := make([]T, rows*d)
	for i := range x {
		x[i] = T(i%7) * 0.1
	}
	w := make([]T, d*cp)
	s := make([]T, rows*cp)
	for b.Loop() {
		if grad {
			MulAdd(d, cp, rows, x, 1, d, s, cp, w, cp)
		} else {
			MulAdd(rows, cp, d, x, d, 1, w, cp, s, cp)
		}
	}
	b.ReportMetric(2*float64(rows*d*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// refMulAdd is MulAdd's documented order written out element by element:
// the specification every level is compared with, bit for bit.
func refMulAdd[T kernels.Float](m, n, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) {
	if k == 0 {
		return
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				s = kernels.FMA(a[i*ai+p*ap], b[p*ldb+j], s)
			}
			c[i*ldc+j] += s
		}
	}
}

// checkOrder checks the contract on got, a whole output buffer (guards
// included) after an operation at the current ISA level that started from
// c0: it must have the bits that ref (the documented order, element by
// element) gives from c0, and the bits that op gives at kernels.Generic.
// A NaN matches any NaN: payloads are not part of the contract.
func checkOrder[T kernels.Float](t *testing.T, got, c0 []T, op, ref func(c []T)) {
	t.Helper()
	if lvl := kernels.ISA(); lvl != kernels.Generic {
		gen := slices.Clone(c0)
		restore := kernels.SetISA(kernels.Generic)
		op(gen)
		restore()
		if i := diffBits(got, gen); i >= 0 {
			t.Fatalf("isa=%s: element %d of the buffer is %v (%#x), isa=generic gives %v (%#x)",
				lvl, i, got[i], bits(got[i]), gen[i], bits(gen[i]))
		}
	}
	want := slices.Clone(c0)
	ref(want)
	if i := diffBits(got, want); i >= 0 {
		t.Fatalf("element %d of the buffer is %v (%#x), the documented order gives %v (%#x)",
			i, got[i], bits(got[i]), want[i], bits(want[i]))
	}
}

// checkGuards fails if an element of buf outside the output (inside(i) is
// false) no longer has the bits it had in buf0. The guards are signalling
// NaNs (sNaN), which any arithmetic turns quiet, so it also catches a
// kernel that reads a guard and writes it back through an add.
func checkGuards[T kernels.Float](t *testing.T, buf, buf0 []T, inside func(i int) bool) {
	t.Helper()
	for i, v := range buf {
		if !inside(i) && bits(v) != bits(buf0[i]) {
			t.Fatalf("guard/padding element %d of c written: %v (%#x, was %#x)", i, v, bits(v), bits(buf0[i]))
		}
	}
}

// sNaN returns a signalling NaN of T, made without a float conversion
// (which would quiet it).
func sNaN[T kernels.Float]() T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		u := uint32(0x7fa00001)
		return *(*T)(unsafe.Pointer(&u))
	}
	u := uint64(0x7ff4000000000001)
	return *(*T)(unsafe.Pointer(&u))
}

// diffBits returns the first index at which x and y differ in their bits,
// a NaN matching any NaN, or -1.
func diffBits[T kernels.Float](x, y []T) int {
	if len(x) != len(y) {
		return min(len(x), len(y))
	}
	for i := range x {
		if bits(x[i]) != bits(y[i]) && (x[i] == x[i] || y[i] == y[i]) {
			return i
		}
	}
	return -1
}

// bits returns the bits of x, read without a float conversion.
func bits[T kernels.Float](x T) uint64 {
	if unsafe.Sizeof(x) == 4 {
		return uint64(*(*uint32)(unsafe.Pointer(&x)))
	}
	return *(*uint64)(unsafe.Pointer(&x))
}

// awkward returns a value from a mix meant to expose any difference in
// rounding or fusing between two ways of computing a sum of products:
// small-integer mantissas at spread exponents (exact products, sums that
// cancel exactly or land on rounding midpoints), values one ulp off a power
// of two (products with a long tail of bits), full-precision normals, and
// rarely ±0, subnormals, the largest finite value, ±Inf and NaN.
func awkward[T kernels.Float](rng *rand.Rand) T {
	var z T
	f32 := unsafe.Sizeof(z) == 4
	sign := float64(1 - 2*rng.IntN(2))
	pow := math.Ldexp(1, rng.IntN(25)-12)
	var v float64
	switch r := rng.IntN(1000); {
	case r < 1:
		return T(math.NaN())
	case r < 3:
		v = math.Inf(1)
	case r < 13:
		v = 0
	case r < 23: // a subnormal
		if f32 {
			v = float64(math.Float32frombits(uint32(1 + rng.IntN(1<<23-1))))
		} else {
			v = math.Float64frombits(1 + rng.Uint64N(1<<52-1))
		}
	case r < 25:
		v = math.MaxFloat64
		if f32 {
			v = math.MaxFloat32
		}
	case r < 400:
		v = float64(1+rng.IntN(1<<12)) * pow
	case r < 750: // 1 or 2 ulps off a power of two: (1+u)(1-u) = 1-u² has a tail
		to := math.Inf(rng.IntN(2)*2 - 1)
		v = pow
		for range 1 + rng.IntN(2) {
			if f32 {
				v = float64(math.Nextafter32(float32(v), float32(to)))
			} else {
				v = math.Nextafter(v, to)
			}
		}
	default:
		v = rng.NormFloat64() * pow
	}
	return T(sign * v)
}

// wantPanic fails unless f panics with a message starting with prefix.
func wantPanic(t *testing.T, name, prefix string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("%s: no panic", name)
		} else if s := fmt.Sprint(r); !strings.HasPrefix(s, prefix) {
			t.Errorf("%s: panic %q does not name %s", name, s, prefix)
		}
	}()
	f()
}
