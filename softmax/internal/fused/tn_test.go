package fused

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/kernels"
)

// testMulAddTN checks MulAddTN on an m×n output against a float64 oracle,
// with A and B as (k×lda) and (k×ldb) row-major views starting off
// elements into NaN-guarded buffers, and NaN guards around and between the
// rows of C.
func testMulAddTN[T kernels.Float](t *testing.T, rng *rand.Rand, m, n, k, off int) {
	t.Helper()
	eps := math.Nextafter(1, 2) - 1
	var z T
	if unsafe.Sizeof(z) == 4 {
		eps = float64(math.Nextafter32(1, 2) - 1)
	}
	lda := m + rng.IntN(3)
	ldb := n + rng.IntN(3)
	ldc := n + rng.IntN(3)
	mk := func(rows, cols, ld int, nan T) (buf, view []T) {
		buf = make([]T, off+rows*ld+guard)
		for i := range buf {
			buf[i] = nan
		}
		for r := 0; r < rows; r++ {
			for j := 0; j < cols; j++ {
				buf[off+r*ld+j] = T(rng.NormFloat64())
			}
		}
		return buf, buf[off : off+max(0, (rows-1)*ld+cols)]
	}
	abuf, a := mk(k, m, lda, T(math.NaN()))
	bbuf, b := mk(k, n, ldb, T(math.NaN()))
	cbuf, c := mk(m, n, ldc, sNaN[T]())
	c0 := slices.Clone(c)
	cbuf0 := slices.Clone(cbuf)
	acopy, bcopy := slices.Clone(abuf), slices.Clone(bbuf)

	MulAddTN(m, n, k, a, lda, b, ldb, c, ldc)
	checkOrder(t, cbuf, cbuf0,
		func(cb []T) { MulAddTN(m, n, k, a, lda, b, ldb, cb[off:off+len(c)], ldc) },
		func(cb []T) { refMulAddTN(m, n, k, a, lda, b, ldb, cb[off:off+len(c)], ldc) })

	same := func(x, y []T) bool { // NaN-aware equality
		for i := range x {
			if x[i] != y[i] && (x[i] == x[i] || y[i] == y[i]) {
				return false
			}
		}
		return true
	}
	if !same(acopy, abuf) || !same(bcopy, bbuf) {
		t.Fatalf("inputs modified")
	}
	for i, v := range cbuf {
		ri := i - off
		if ri < 0 || ri >= m*ldc || ri%ldc >= n {
			if bits(v) != bits(cbuf0[i]) {
				t.Fatalf("guard/padding element %d of c written: %v (%#x)", i, v, bits(v))
			}
			continue
		}
		row, col := ri/ldc, ri%ldc
		var sum, abs float64
		for p := 0; p < k; p++ {
			pr := float64(float64(a[p*lda+row]) * float64(b[p*ldb+col])) // not fused into sum
			sum += pr
			abs += math.Abs(pr)
		}
		want := float64(c0[ri]) + sum
		// k products summed recursively (from zero or onto c0) plus at
		// most one more add: error <= (k+2)·eps·(Σ|a·b| + |c0|), plus
		// eps·|want| for the rounding to T.
		bound := float64(float64(k+2)*eps*(abs+math.Abs(float64(c0[ri])))) + float64(eps*math.Abs(want))
		if d := math.Abs(float64(v) - want); !(d <= bound) {
			t.Fatalf("c[%d,%d] = %v, want %v (|diff| %g > bound %g)", row, col, v, want, d, bound)
		}
	}
}

func TestMulAddTN(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(3, uint64(lvl)))
			ns := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 33, 35, 47, 48, 49, 100, 3073}
			for _, m := range []int{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17} {
				for _, n := range ns {
					for _, k := range []int{0, 1, 2, 3, 5, 32, 33, 200} {
						if n == 3073 && k > 33 {
							continue
						}
						off := rng.IntN(4)
						name := fmt.Sprintf("m=%d/n=%d/k=%d/off=%d", m, n, k, off)
						t.Run("f64/"+name, func(t *testing.T) { testMulAddTN[float64](t, rng, m, n, k, off) })
						t.Run("f32/"+name, func(t *testing.T) { testMulAddTN[float32](t, rng, m, n, k, off) })
					}
				}
			}
		})
	}
}

// TestMulAddTNWindow covers many strip groups (a k large enough that the
// L1 window holds a single strip, and k small enough for many strips).
func TestMulAddTNWindow(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(4, uint64(lvl)))
			testMulAddTN[float64](t, rng, 10, 1000, 300, 1)
			testMulAddTN[float32](t, rng, 10, 1000, 300, 3)
			testMulAddTN[float64](t, rng, 10, 4099, 2, 0)
			testMulAddTN[float32](t, rng, 9, 4099, 1, 2)
		})
	}
}

func TestMulAddTNSpecialValues(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			// A NaN in column i of A reaches exactly row i of C; an Inf
			// in column j of B reaches exactly column j (with A > 0).
			m, n, k := 7, 37, 4
			a := make([]float32, k*m)
			b := make([]float32, k*n)
			for i := range a {
				a[i] = 1
			}
			for i := range b {
				b[i] = 1
			}
			a[2*m+3] = float32(math.NaN())
			b[1*n+21] = float32(math.Inf(1))
			c := make([]float32, m*n)
			MulAddTN(m, n, k, a, m, b, n, c, n)
			checkOrder(t, c, make([]float32, m*n),
				func(c []float32) { MulAddTN(m, n, k, a, m, b, n, c, n) },
				func(c []float32) { refMulAddTN(m, n, k, a, m, b, n, c, n) })
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					v := float64(c[i*n+j])
					switch {
					case i == 3 && !math.IsNaN(v), i != 3 && j == 21 && !math.IsInf(v, 1), i != 3 && j != 21 && v != float64(k):
						t.Fatalf("c[%d,%d] = %v", i, j, v)
					}
				}
			}
		})
	}
}

// TestMulAddTNAwkwardValues checks the bits of every level against the
// documented order on inputs chosen to expose any difference in rounding
// or fusing (see awkward): pass boundaries (k around multiples of 8), the
// strip kernels of both widths, the Go tail columns, many row blocks.
func TestMulAddTNAwkwardValues(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(6, uint64(lvl)))
			for _, m := range []int{1, 3, 6, 7, 10, 11, 17} {
				for _, n := range []int{1, 3, 4, 7, 8, 9, 12, 16, 17, 24, 31, 33, 100} {
					for _, k := range []int{1, 5, 7, 8, 9, 16, 17, 40} {
						name := fmt.Sprintf("m=%d/n=%d/k=%d", m, n, k)
						t.Run("f64/"+name, func(t *testing.T) { testMulAddTNAwkward[float64](t, rng, m, n, k) })
						t.Run("f32/"+name, func(t *testing.T) { testMulAddTNAwkward[float32](t, rng, m, n, k) })
					}
				}
			}
		})
	}
}

func testMulAddTNAwkward[T kernels.Float](t *testing.T, rng *rand.Rand, m, n, k int) {
	t.Helper()
	off := rng.IntN(4)
	lda, ldb, ldc := m+rng.IntN(3), n+rng.IntN(3), n+rng.IntN(3)
	a := make([]T, off+(k-1)*lda+m)
	b := make([]T, off+(k-1)*ldb+n)
	for _, x := range [][]T{a, b} {
		for i := range x {
			x[i] = awkward[T](rng)
		}
	}
	a, b = a[off:], b[off:]
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
	MulAddTN(m, n, k, a, lda, b, ldb, c, ldc)
	checkGuards(t, cbuf, cbuf0, inside)
	checkOrder(t, cbuf, cbuf0,
		func(cb []T) { MulAddTN(m, n, k, a, lda, b, ldb, cb[off:off+len(c)], ldc) },
		func(cb []T) { refMulAddTN(m, n, k, a, lda, b, ldb, cb[off:off+len(c)], ldc) })
}

// refMulAddTN is MulAddTN's documented order written out element by
// element: passes of 8 values of p (the number the documentation states,
// deliberately not tnPassRows), each summed from zero with fused
// multiply-adds and then added to C.
func refMulAddTN[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	const pass = 8
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			for p0 := 0; p0 < k; p0 += pass {
				var s T
				for p := p0; p < min(p0+pass, k); p++ {
					s = kernels.FMA(a[p*lda+i], b[p*ldb+j], s)
				}
				c[i*ldc+j] += s
			}
		}
	}
}

func TestMulAddTNPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"short a", func() { MulAddTN(2, 4, 3, make([]float64, 5), 2, make([]float64, 12), 4, make([]float64, 8), 4) }},
		{"short b", func() { MulAddTN(2, 4, 3, make([]float64, 6), 2, make([]float64, 11), 4, make([]float64, 8), 4) }},
		{"short c", func() { MulAddTN(2, 4, 3, make([]float64, 6), 2, make([]float64, 12), 4, make([]float64, 7), 4) }},
		{"ldc < n", func() { MulAddTN(2, 4, 3, make([]float64, 6), 2, make([]float64, 12), 4, make([]float64, 8), 3) }},
		{"lda < m", func() { MulAddTN(2, 4, 3, make([]float64, 6), 1, make([]float64, 12), 4, make([]float64, 8), 4) }},
		{"negative", func() { MulAddTN(-1, 4, 3, make([]float32, 6), 2, make([]float32, 12), 4, make([]float32, 8), 4) }},
	} {
		wantPanic(t, tc.name, "fused.MulAddTN", tc.f)
	}
}

// BenchmarkMulAddTN is the transposed gradient of the softmax dev set,
// dWᵀ (10×3073) += dSᵀ·X in blocks of 32 rows of X (500×3073), next to
// MulAdd's padded D×cp gradient on the same blocks. GFLOP/s counts the
// useful 2·N·D·C flops on both.
func BenchmarkMulAddTN(b *testing.B) {
	for _, lvl := range kernels.Levels() {
		defer kernels.SetISA(lvl)()
		b.Run(fmt.Sprintf("f64/isa=%s/tn/500x3073x10", lvl), func(b *testing.B) { benchGrad[float64](b, true) })
		b.Run(fmt.Sprintf("f64/isa=%s/padded/500x3073x10", lvl), func(b *testing.B) { benchGrad[float64](b, false) })
		b.Run(fmt.Sprintf("f32/isa=%s/tn/500x3073x10", lvl), func(b *testing.B) { benchGrad[float32](b, true) })
		b.Run(fmt.Sprintf("f32/isa=%s/padded/500x3073x10", lvl), func(b *testing.B) { benchGrad[float32](b, false) })
	}
}

func benchGrad[T kernels.Float](b *testing.B, tn bool) {
	const rows, d, c, blk = 500, 3073, 10, 32
	cp := PadCols[T](c)
	x := make([]T, rows*d)
	for i := range x {
		x[i] = T(i%7) * 0.1
	}
	ds := make([]T, rows*cp)
	g := make([]T, d*cp)
	for b.Loop() {
		for b0 := 0; b0 < rows; b0 += blk {
			r := min(blk, rows-b0)
			if tn {
				MulAddTN(c, d, r, ds[b0*cp:], cp, x[b0*d:], d, g, d)
			} else {
				MulAdd(d, cp, r, x[b0*d:], 1, d, ds[b0*cp:], cp, g, cp)
			}
		}
	}
	b.ReportMetric(2*float64(rows*d*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestMulTN: on every level, MulTN leaves exactly the bits MulAddTN leaves
// in a C of zeros, whatever C held before (NaNs here), including for
// k == 0 and with ±Inf, NaN and -0 among the inputs, and writes nothing
// outside the m×n elements of C.
func TestMulTN(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(9, uint64(lvl)))
			for _, m := range []int{1, 2, 5, 10, 11, 15, 17} {
				for _, n := range []int{1, 3, 7, 8, 9, 16, 17, 31, 33, 100, 3073} {
					for _, k := range []int{0, 1, 3, 8, 9, 17, 33} {
						testMulTN[float64](t, rng, m, n, k)
						testMulTN[float32](t, rng, m, n, k)
					}
				}
			}
		})
	}
}

func testMulTN[T kernels.Float](t *testing.T, rng *rand.Rand, m, n, k int) {
	t.Helper()
	lda, ldb, ldc := m+rng.IntN(3), n+rng.IntN(3), n+rng.IntN(3)
	val := func() T {
		switch rng.IntN(40) {
		case 0:
			return T(math.Inf(1))
		case 1:
			return T(math.Inf(-1))
		case 2:
			return T(math.NaN())
		case 3:
			return T(math.Copysign(0, -1))
		}
		return T(rng.NormFloat64())
	}
	a := make([]T, max(0, (k-1)*lda+m))
	b := make([]T, max(0, (k-1)*ldb+n))
	for i := range a {
		a[i] = val()
	}
	for i := range b {
		b[i] = val()
	}
	want := make([]T, m*ldc)
	got := make([]T, m*ldc)
	for i := range got {
		got[i] = sNaN[T]()
		if i%ldc >= n {
			want[i] = sNaN[T]()
		}
	}
	MulAddTN(m, n, k, a, lda, b, ldb, want, ldc)
	MulTN(m, n, k, a, lda, b, ldb, got, ldc)
	for i := range got {
		if i%ldc < n && bits(got[i]) == bits(sNaN[T]()) {
			t.Fatalf("%T m=%d n=%d k=%d: c[%d] was not written", got[i], m, n, k, i)
		}
		if bits(got[i]) != bits(want[i]) && !(got[i] != got[i] && want[i] != want[i] && i%ldc < n) {
			t.Fatalf("%T m=%d n=%d k=%d: c[%d] = %v (%#x), MulAddTN on zeros gives %v (%#x)", got[i], m, n, k, i, got[i], bits(got[i]), want[i], bits(want[i]))
		}
	}
}
