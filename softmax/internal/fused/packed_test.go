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

// refMulAddPacked is MulAddPacked's documented order written out element
// by element on the unpacked W (k×c, row stride c): the specification
// every level is compared with, bit for bit.
func refMulAddPacked[T kernels.Float](m, c, k int, a []T, lda int, w []T, s []T, lds int) {
	if k == 0 {
		return
	}
	var z T
	f32 := unsafe.Sizeof(z) == 4
	for i := 0; i < m; i++ {
		for j := 0; j < c; j++ {
			if j < c/8*8 && !f32 {
				var acc T
				for p := 0; p < k; p++ {
					acc = kernels.FMA(a[i*lda+p], w[p*c+j], acc)
				}
				s[i*lds+j] += acc
				continue
			}
			if j < c/8*8 {
				var e [2]T
				for p := 0; p < k; p++ {
					e[p%2] = kernels.FMA(a[i*lda+p], w[p*c+j], e[p%2])
				}
				s[i*lds+j] += e[0] + e[1]
				continue
			}
			var l [8]T
			if !f32 {
				for p := 0; p < k; p++ {
					l[p%4] = kernels.FMA(a[i*lda+p], w[p*c+j], l[p%4])
				}
				s[i*lds+j] += (l[0] + l[1]) + (l[2] + l[3])
				continue
			}
			for p := 0; p < k; p++ {
				l[p%8] = kernels.FMA(a[i*lda+p], w[p*c+j], l[p%8])
			}
			s[i*lds+j] += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
		}
	}
}

// packW returns W (k×c, row stride c) in MulAddPacked's packed form, the
// elements no W[p, j] maps to zero, and checks that PackedPos maps the
// elements of W to distinct places.
func packW[T kernels.Float](t *testing.T, k, c int, w []T) []T {
	t.Helper()
	b := make([]T, PackedLen[T](k, c))
	seen := make([]bool, len(b))
	var z T
	G := 4
	if unsafe.Sizeof(z) == 4 {
		G = 8
	}
	for p := 0; p < k; p++ {
		for j := 0; j < c; j++ {
			i := PackedPos[T](k, c, p, j)
			// the layout as PackedPos documents it
			n8 := (k + G - 1) / G * 4 * 2 * G * (c / 8)
			want := n8 + 2*G*(p/G) + G*(j-c/8*8) + p%G
			if j < c/8*8 {
				want = 8*p + j
				if G == 8 {
					want = 16*(p/2) + 2*j + p%2
				}
			}
			if i != want {
				t.Fatalf("PackedPos(%d, %d, %d) = %d, want %d", c, p, j, i, want)
			}
			if seen[i] {
				t.Fatalf("PackedPos(%d, %d, %d) = %d twice", c, p, j, i)
			}
			seen[i] = true
			b[i] = w[p*c+j]
		}
	}
	return b
}

// testMulAddPacked runs MulAddPacked at the current level on an m×c
// output with A (m×k, row stride lda >= k) starting off elements into a
// NaN-filled buffer and signalling-NaN guards around and between the rows
// of S (the columns c..lds-1 included). It checks the bits against the
// documented order and the generic level, the guards, and (at the generic
// level) the value against dot2 within the rounding-error bound of that
// order.
func testMulAddPacked[T kernels.Float](t *testing.T, rng *rand.Rand, m, c, k, off int, fill func() T) error {
	t.Helper()
	lda := k + rng.IntN(5)
	lds := c + rng.IntN(3)
	abuf := make([]T, off+m*lda+guard)
	for i := range abuf {
		abuf[i] = T(math.NaN())
	}
	for r := 0; r < m; r++ {
		for p := 0; p < k; p++ {
			abuf[off+r*lda+p] = fill()
		}
	}
	a := abuf[off : off+max(0, (m-1)*lda+k)]
	w := make([]T, k*c)
	for i := range w {
		w[i] = fill()
	}
	b := packW(t, k, c, w)
	sbuf := make([]T, off+m*lds+guard)
	for i := range sbuf {
		sbuf[i] = sNaN[T]()
	}
	for r := 0; r < m; r++ {
		for j := 0; j < c; j++ {
			sbuf[off+r*lds+j] = fill()
		}
	}
	s := sbuf[off : off+max(0, (m-1)*lds+c)]
	s0, sbuf0 := slices.Clone(s), slices.Clone(sbuf)
	MulAddPacked(m, c, k, a, lda, b, s, lds)
	inside := func(i int) bool { ri := i - off; return ri >= 0 && ri < m*lds && ri%lds < c }
	checkGuards(t, sbuf, sbuf0, inside)
	checkOrder(t, sbuf, sbuf0,
		func(sb []T) { MulAddPacked(m, c, k, a, lda, b, sb[off:off+len(s)], lds) },
		func(sb []T) { refMulAddPacked(m, c, k, a, lda, w, sb[off:off+len(s)], lds) })
	if k == 0 || kernels.ISA() != kernels.Generic {
		return nil // the other levels have the generic level's bits
	}
	// Rounding error of the documented order (Higham's γ_d): a product
	// goes through at most k fmas and an add (a full column), or
	// ceil(k/G) fmas and log2(G) adds (an interleaved one), then the add
	// to S.
	var z T
	u, G, lg := 0x1p-53, 4, 2
	if unsafe.Sizeof(z) == 4 {
		u, G, lg = 0x1p-24, 8, 3
	}
	col := make([]T, k)
	for i := 0; i < m; i++ {
		for j := 0; j < c; j++ {
			d := float64(k + 2)
			if j >= c/8*8 {
				d = float64((k+G-1)/G + lg + 1)
			}
			gamma := d * u / (1 - d*u)
			for p := range col {
				col[p] = w[p*c+j]
			}
			want, abs := dot2(a[i*lda:i*lda+k], col, float64(s0[i*lds+j]))
			mag := abs + math.Abs(float64(s0[i*lds+j]))
			bound := gamma*mag + 4*0x1p-53*mag
			got := float64(s[i*lds+j])
			if diff := math.Abs(got - want); !(diff <= bound) {
				return fmt.Errorf("s[%d,%d] = %v, want %v (|diff| %g > bound %g)", i, j, got, want, diff, bound)
			}
		}
	}
	return nil
}

var packedCols = []int{1, 2, 9, 10}

// TestPackRowsT: packing ranges of rows of W from Wᵀ, ranges starting
// and ending anywhere in a group, writes exactly those rows' elements,
// where PackedPos puts them.
func TestPackRowsT(t *testing.T) {
	testPackRowsT[float32](t)
	testPackRowsT[float64](t)
}

func testPackRowsT[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	for _, c := range packedCols {
		for _, k := range []int{1, 7, 8, 9, 17, 40} {
			ldwt := k + rng.IntN(3)
			wt := make([]T, c*ldwt)
			w := make([]T, k*c)
			for p := 0; p < k; p++ {
				for j := 0; j < c; j++ {
					v := T(rng.NormFloat64())
					wt[j*ldwt+p], w[p*c+j] = v, v
				}
			}
			want := packW(t, k, c, w)
			for range 20 {
				k0 := rng.IntN(k + 1)
				k1 := k0 + rng.IntN(k-k0+1)
				got := make([]T, len(want))
				for i := range got {
					got[i] = T(math.NaN())
				}
				PackRowsT(k, c, k0, k1, wt, ldwt, got)
				for i := range got {
					in := false
					for p := k0; p < k1 && !in; p++ {
						for j := 0; j < c; j++ {
							in = in || PackedPos[T](k, c, p, j) == i
						}
					}
					if in && bits(got[i]) != bits(want[i]) || !in && got[i] == got[i] {
						t.Fatalf("c=%d k=%d rows [%d,%d): element %d = %v, want %v (in range: %v)", c, k, k0, k1, i, got[i], want[i], in)
					}
				}
			}
		}
	}
}

// packedRun runs testMulAddPacked with normal random inputs over the
// shapes ms × packedCols × ks, both types, at every level.
func packedRun(t *testing.T, seed uint64, ms, ks []int) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(seed, uint64(lvl)))
			for _, k := range ks {
				for _, m := range ms {
					for _, c := range packedCols {
						off := rng.IntN(16)
						if err := testMulAddPacked(t, rng, m, c, k, off, func() float64 { return rng.NormFloat64() }); err != nil {
							t.Fatalf("f64 m=%d c=%d k=%d off=%d: %v", m, c, k, off, err)
						}
						if err := testMulAddPacked(t, rng, m, c, k, off, func() float32 { return float32(rng.NormFloat64()) }); err != nil {
							t.Fatalf("f32 m=%d c=%d k=%d off=%d: %v", m, c, k, off, err)
						}
					}
				}
			}
		})
	}
}

// TestMulAddPacked: every level against the documented order, the generic
// level and the error bound, over all small shapes (every tail of k with
// 0..5 full groups, every row blocking and its remainders up to two
// blocks of 12), with strides > k and misaligned starts.
func TestMulAddPacked(t *testing.T) {
	packedRun(t, 11, seq(0, 25), seq(0, 23))
}

// TestMulAddPackedLong: the loss's rows (D = 3073, and a multiple of 4).
func TestMulAddPackedLong(t *testing.T) {
	packedRun(t, 12, []int{1, 3, 8, 13}, []int{3072, 3073, 3075})
}

// TestMulAddPackedSpecialValues checks the bits of every level against
// the documented order on inputs chosen to expose any difference in
// rounding, fusing or summation order (awkward), and on sums of huge
// values whose result depends on which cancel first.
func TestMulAddPackedSpecialValues(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(13, uint64(lvl)))
			for _, m := range []int{1, 2, 4, 7, 13} {
				for _, c := range packedCols {
					for _, k := range []int{1, 3, 4, 5, 8, 9, 15, 33, 100} {
						for range 3 {
							off := rng.IntN(16)
							// the error bound does not hold with NaN, Inf and
							// overflow: only the bits are checked
							testMulAddPacked(t, rng, m, c, k, off, func() float64 { return awkward[float64](rng) })
							testMulAddPacked(t, rng, m, c, k, off, func() float32 { return awkward[float32](rng) })
						}
						testMulAddPacked(t, rng, m, c, k, 0, func() float64 {
							if rng.IntN(2) == 0 {
								return float64(1-2*rng.IntN(2)) * math.Ldexp(1+float64(rng.IntN(8))/8, 1000+rng.IntN(20))
							}
							return rng.NormFloat64()
						})
					}
				}
			}
		})
	}
}

// TestMulAddPackedNegativeZero: a lane sum that is an exact zero is +0
// (the masked tail relies on it), so -0·x products onto a -0 S give +0 in
// every column, on every level.
func TestMulAddPackedNegativeZero(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			for _, c := range packedCols {
				for _, k := range []int{1, 4, 6, 13} {
					a := make([]float64, k)
					w := make([]float64, k*c)
					for p := range a {
						a[p] = math.Copysign(0, -1)
					}
					for i := range w {
						w[i] = 3
					}
					b := packW(t, k, c, w)
					s := make([]float64, c)
					for j := range s {
						s[j] = math.Copysign(0, -1)
					}
					MulAddPacked(1, c, k, a, k, b, s, c)
					for j, v := range s {
						if math.Float64bits(v) != 0 {
							t.Errorf("c=%d k=%d column %d: -0 + Σ -0·3 = %v (%#x), want +0", c, k, j, v, math.Float64bits(v))
						}
					}
				}
			}
		})
	}
}

func TestMulAddPackedPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"c not packable", func() { MulAddPacked(1, 3, 4, make([]float64, 4), 4, make([]float64, 32), make([]float64, 3), 3) }},
		{"short a", func() { MulAddPacked(2, 10, 4, make([]float64, 7), 4, make([]float64, 40), make([]float64, 20), 10) }},
		{"short b", func() { MulAddPacked(2, 10, 5, make([]float64, 10), 5, make([]float64, 79), make([]float64, 20), 10) }},
		{"short s", func() { MulAddPacked(2, 10, 4, make([]float64, 8), 4, make([]float64, 40), make([]float64, 19), 10) }},
		{"lds < c", func() { MulAddPacked(2, 10, 4, make([]float64, 8), 4, make([]float64, 40), make([]float64, 20), 9) }},
		{"negative", func() { MulAddPacked(-1, 10, 4, make([]float64, 8), 4, make([]float64, 40), make([]float64, 20), 10) }},
	} {
		wantPanic(t, tc.name, "fused.MulAddPacked", tc.f)
	}
}

// BenchmarkMulAddPacked is the scores of the softmax next to the kernels
// the fused loss ran them with before: float64 through the cp-padded
// MulAdd, float32 through MulAddNT on Wᵀ (rows of X one element off the
// lines, D = 3073): the dev set, S (500×10) += X (500×3073) · W, and the
// fused loss's blocks of 8 and 32 rows (X_b in L2). GFLOP/s counts the
// useful 2·m·c·k flops.
func BenchmarkMulAddPacked(b *testing.B) {
	for _, lvl := range kernels.Levels() {
		defer kernels.SetISA(lvl)()
		for _, rows := range []int{500, 32, 8} {
			b.Run(fmt.Sprintf("f64/isa=%s/packed/%dx3073x10", lvl, rows), func(b *testing.B) { benchPacked[float64](b, rows, 3073, 10) })
			b.Run(fmt.Sprintf("f64/isa=%s/muladd/%dx3073x10", lvl, rows), func(b *testing.B) { benchMulAdd[float64](b, rows, 3073, 10, false) })
			b.Run(fmt.Sprintf("f32/isa=%s/packed/%dx3073x10", lvl, rows), func(b *testing.B) { benchPacked[float32](b, rows, 3073, 10) })
			b.Run(fmt.Sprintf("f32/isa=%s/nt/%dx3073x10", lvl, rows), func(b *testing.B) { benchNT[float32](b, rows, 3073, 10, 3088) })
		}
	}
}

func benchPacked[T kernels.Float](b *testing.B, rows, d, c int) {
	x := make([]T, rows*d)
	for i := range x {
		x[i] = T(i%7) * 0.1
	}
	w := make([]T, PackedLen[T](d, c))
	s := make([]T, rows*c)
	for b.Loop() {
		MulAddPacked(rows, c, d, x, d, w, s, c)
	}
	b.ReportMetric(2*float64(rows*d*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
