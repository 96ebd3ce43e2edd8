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

// refMulAddNT is MulAddNT's documented order written out element by
// element, with the lane count the documentation states (deliberately not
// NTLanes): the specification every level is compared with, bit for bit.
func refMulAddNT[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	var z T
	L := 8
	if unsafe.Sizeof(z) == 4 {
		L = 16
	}
	if k == 0 {
		return
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var acc [16]T
			s := acc[:L]
			for p := 0; p < k; p++ {
				s[p%L] = kernels.FMA(a[i*lda+p], b[j*ldb+p], s[p%L])
			}
			for h := L / 2; h >= 1; h /= 2 {
				for l := 0; l < h; l++ {
					s[l] = s[l] + s[l+h]
				}
			}
			c[i*ldc+j] += s[0]
		}
	}
}

// dot2 returns Σ x[p]·y[p] + c0 computed with error-free transformations
// (TwoProduct by FMA, TwoSum: Ogita, Rump and Oishi's Dot2), as accurate
// as a float64 sum in twice the working precision, and Σ |x[p]·y[p]|.
func dot2[T kernels.Float](x, y []T, c0 float64) (sum, abs float64) {
	s, e := c0, 0.0
	for p, xp := range x {
		xv, yv := float64(xp), float64(y[p])
		h := xv * yv
		l := math.FMA(xv, yv, -h)
		t := s + h
		bb := t - s
		e += (s - (t - bb)) + (h - bb) + l
		s = t
		abs += math.Abs(h)
	}
	return s + e, abs
}

// testMulAddNT runs MulAddNT at the current level on an m×n output with
// A and B (m×k and n×k, row strides lda, ldb >= k) starting off elements
// into NaN-filled buffers (the stride padding NaN too) and signalling-NaN
// guards around and between the rows of C. It checks the bits against the
// documented order and the generic level, the guards, and (at the generic
// level) the value against dot2 within the rounding-error bound of that
// order.
func testMulAddNT[T kernels.Float](t *testing.T, rng *rand.Rand, m, n, k, off int, fill func() T) error {
	t.Helper()
	lda := k + rng.IntN(3)
	ldb := k + []int{0, 1, 16}[rng.IntN(3)]
	ldc := n + rng.IntN(3)
	mk := func(rows, cols, ld int, pad T) (buf, view []T) {
		buf = make([]T, off+rows*ld+guard)
		for i := range buf {
			buf[i] = pad
		}
		for r := 0; r < rows; r++ {
			for j := 0; j < cols; j++ {
				buf[off+r*ld+j] = fill()
			}
		}
		return buf, buf[off : off+max(0, (rows-1)*ld+cols)]
	}
	_, a := mk(m, k, lda, T(math.NaN()))
	_, b := mk(n, k, ldb, T(math.NaN()))
	cbuf, c := mk(m, n, ldc, sNaN[T]())
	c0, cbuf0 := slices.Clone(c), slices.Clone(cbuf)
	MulAddNT(m, n, k, a, lda, b, ldb, c, ldc)
	inside := func(i int) bool { ri := i - off; return ri >= 0 && ri < m*ldc && ri%ldc < n }
	checkGuards(t, cbuf, cbuf0, inside)
	checkOrder(t, cbuf, cbuf0,
		func(cb []T) { MulAddNT(m, n, k, a, lda, b, ldb, cb[off:off+len(c)], ldc) },
		func(cb []T) { refMulAddNT(m, n, k, a, lda, b, ldb, cb[off:off+len(c)], ldc) })
	if k == 0 || kernels.ISA() != kernels.Generic {
		return nil // the other levels have the generic level's bits
	}
	// Rounding error of the documented order (Higham's γ_d): a product
	// goes through at most ceil(k/L) fmas of its lane, log2(L) adds of the
	// tree and the add to C, each rounding once with unit roundoff u:
	// |c - exact| <= γ_d·(Σ|a·b| + |c0|), γ_d = d·u/(1-d·u); plus the
	// error of dot2 itself (a few float64 ulps of the same magnitude).
	var z T
	u, L, lg := 0x1p-53, 8, 3
	if unsafe.Sizeof(z) == 4 {
		u, L, lg = 0x1p-24, 16, 4
	}
	d := float64((k+L-1)/L + lg + 1)
	gamma := d * u / (1 - d*u)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			want, abs := dot2(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k], float64(c0[i*ldc+j]))
			mag := abs + math.Abs(float64(c0[i*ldc+j]))
			bound := gamma*mag + 4*0x1p-53*mag
			got := float64(c[i*ldc+j])
			if diff := math.Abs(got - want); !(diff <= bound) {
				return fmt.Errorf("c[%d,%d] = %v, want %v (|diff| %g > bound %g)", i, j, got, want, diff, bound)
			}
		}
	}
	return nil
}

// ntRun runs testMulAddNT with normal random inputs over the shapes
// ms × ns × ks, both types, at every level.
func ntRun(t *testing.T, seed uint64, ms, ns, ks []int) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(seed, uint64(lvl)))
			for _, k := range ks {
				for _, m := range ms {
					for _, n := range ns {
						off := rng.IntN(16)
						if err := testMulAddNT(t, rng, m, n, k, off, func() float64 { return rng.NormFloat64() }); err != nil {
							t.Fatalf("f64 m=%d n=%d k=%d off=%d: %v", m, n, k, off, err)
						}
						if err := testMulAddNT(t, rng, m, n, k, off, func() float32 { return float32(rng.NormFloat64()) }); err != nil {
							t.Fatalf("f32 m=%d n=%d k=%d off=%d: %v", m, n, k, off, err)
						}
					}
				}
			}
		})
	}
}

func seq(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// TestMulAddNT: every level against the documented order, the generic
// level and the error bound, over all small shapes (each k mod L tail with
// 0..4 full steps, every row and column blocking), with strides > k and
// misaligned starts.
func TestMulAddNT(t *testing.T) {
	ntRun(t, 7, seq(0, 9), seq(1, 17), seq(0, 70))
}

// TestMulAddNTLong: long rows (the loss's D = 3073), with and without a
// tail; many row blocks and wide B.
func TestMulAddNTLong(t *testing.T) {
	ntRun(t, 9, []int{1, 2, 3}, []int{1, 4, 10, 11}, []int{255, 3073, 3072 + 17})
	ntRun(t, 10, []int{13, 30}, []int{10, 70}, []int{1100})
}

// TestMulAddNTSpecialValues checks the bits of every level against the
// documented order on inputs chosen to expose any difference in rounding,
// fusing or summation order (see awkward: NaN, ±Inf, ±0, subnormals, the
// largest finite values, exact cancellations), and on sums of huge values
// that cancel to different results in different orders.
func TestMulAddNTSpecialValues(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(8, uint64(lvl)))
			for _, m := range []int{1, 2, 3, 5} {
				for _, n := range []int{1, 3, 10, 11, 17} {
					for _, k := range []int{1, 7, 8, 9, 15, 16, 17, 33, 100} {
						for range 3 {
							off := rng.IntN(16)
							// the error bound does not hold with NaN, Inf and
							// overflow: only the bits are checked
							testMulAddNT(t, rng, m, n, k, off, func() float64 { return awkward[float64](rng) })
							testMulAddNT(t, rng, m, n, k, off, func() float32 { return awkward[float32](rng) })
						}
						// ±huge products: which ones cancel first decides the
						// result (lane sums vs any other grouping)
						huge := func() float64 {
							return float64(1-2*rng.IntN(2)) * math.Ldexp(1+float64(rng.IntN(8))/8, 1000+rng.IntN(20))
						}
						testMulAddNT(t, rng, m, n, k, 0, func() float64 {
							if rng.IntN(2) == 0 {
								return huge()
							}
							return rng.NormFloat64()
						})
						testMulAddNT(t, rng, m, n, k, 0, func() float32 {
							if rng.IntN(2) == 0 {
								return float32(float64(1-2*rng.IntN(2)) * math.Ldexp(1+float64(rng.IntN(8))/8, 60+rng.IntN(4)))
							}
							return float32(rng.NormFloat64())
						})
					}
				}
			}
		})
	}
}

// TestMulAddNTNegativeZero: a lane sum that is an exact zero is +0 (the
// kernels' zero-masked tail lanes rely on it), so -0·x products and a -0
// C give +0, on every level.
func TestMulAddNTNegativeZero(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			for _, k := range []int{1, 5, 16, 21} {
				a := make([]float32, k)
				b := make([]float32, k)
				for p := range a {
					a[p], b[p] = float32(math.Copysign(0, -1)), 3
				}
				c := []float32{float32(math.Copysign(0, -1))}
				MulAddNT(1, 1, k, a, k, b, k, c, 1)
				if math.Float32bits(c[0]) != 0 {
					t.Errorf("k=%d: -0 + Σ -0·3 = %v (%#x), want +0", k, c[0], math.Float32bits(c[0]))
				}
			}
		})
	}
}

func TestMulAddNTPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"short a", func() { MulAddNT(2, 4, 3, make([]float64, 5), 3, make([]float64, 12), 3, make([]float64, 8), 4) }},
		{"short b", func() { MulAddNT(2, 4, 3, make([]float64, 6), 3, make([]float64, 11), 3, make([]float64, 8), 4) }},
		{"short c", func() { MulAddNT(2, 4, 3, make([]float64, 6), 3, make([]float64, 12), 3, make([]float64, 7), 4) }},
		{"ldc < n", func() { MulAddNT(2, 4, 3, make([]float64, 6), 3, make([]float64, 12), 3, make([]float64, 8), 3) }},
		{"lda < k", func() { MulAddNT(2, 4, 3, make([]float64, 6), 2, make([]float64, 12), 3, make([]float64, 8), 4) }},
		{"ldb < k", func() { MulAddNT(2, 4, 3, make([]float64, 6), 3, make([]float64, 12), 2, make([]float64, 8), 4) }},
		{"negative", func() { MulAddNT(-1, 4, 3, make([]float32, 6), 3, make([]float32, 12), 3, make([]float32, 8), 4) }},
	} {
		wantPanic(t, tc.name, "fused.MulAddNT", tc.f)
	}
}

// BenchmarkMulAddNT is the scores of the softmax dev set, S (500×10) +=
// X (500×3073) · W with W as Wᵀ (10×3073), next to BenchmarkMulAdd's
// scores case (the same product through the cp-padded MulAdd): Wᵀ with
// row stride 3073, and (ldb=3088) with its rows 64-byte aligned; and the
// fused loss's block of 32 rows, X_b in L2 (the kernels' own speed, not
// the memory's). GFLOP/s counts the useful 2·m·n·k flops.
func BenchmarkMulAddNT(b *testing.B) {
	for _, lvl := range kernels.Levels() {
		defer kernels.SetISA(lvl)()
		for _, rows := range []int{500, 32} {
			for _, ldb := range []int{3073, 3088} {
				sfx := ""
				if ldb != 3073 {
					sfx = fmt.Sprintf("/ldb=%d", ldb)
				}
				b.Run(fmt.Sprintf("f64/isa=%s/scores/%dx3073x10%s", lvl, rows, sfx), func(b *testing.B) { benchNT[float64](b, rows, 3073, 10, ldb) })
				b.Run(fmt.Sprintf("f32/isa=%s/scores/%dx3073x10%s", lvl, rows, sfx), func(b *testing.B) { benchNT[float32](b, rows, 3073, 10, ldb) })
			}
		}
	}
}

func benchNT[T kernels.Float](b *testing.B, rows, d, c, ldb int) {
	x := make([]T, rows*d)
	for i := range x {
		x[i] = T(i%7) * 0.1
	}
	wt := make([]T, c*ldb) // a large allocation: page-aligned
	s := make([]T, rows*c)
	for b.Loop() {
		MulAddNT(rows, c, d, x, d, wt, ldb, s, c)
	}
	b.ReportMetric(2*float64(rows*d*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
