package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gm is a rows×cols matrix with the given stride at misalignment off in a
// buffer whose other elements (including the gaps between rows) hold the
// guard NaN.
type gm[T Float] struct {
	buf                    []T
	at, rows, cols, stride int
	S                      []T // from the first element to the last
}

func guardedMat[T Float](r *rand.Rand, rows, cols, stride, off int) gm[T] {
	n := 0
	if rows > 0 {
		n = (rows-1)*stride + cols
	}
	v := guarded[T](n, off)
	m := gm[T]{buf: v.buf, at: v.at, rows: rows, cols: cols, stride: stride, S: v.S}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m.S[i*stride+j] = T(4*r.Float64() - 2)
		}
	}
	return m
}

func (m gm[T]) inside(k int) bool {
	k -= m.at
	return k >= 0 && k < len(m.S) && k%m.stride < m.cols
}

func (m gm[T]) check(t testing.TB, what string) {
	t.Helper()
	g := guardVal[T]()
	for k := range m.buf {
		if !m.inside(k) && !sameBits(m.buf[k], g) {
			t.Fatalf("%s: rows=%d cols=%d stride=%d: wrote outside the matrix at buffer index %d", what, m.rows, m.cols, m.stride, k)
		}
	}
}

// matShapes calls f for many shapes: every cols up to maxShortLen and some
// large ones, a few row counts, strides == cols and larger, misalignments.
func matShapes(f func(rows, cols, stride, off int)) {
	for _, cols := range testLens {
		if cols > 300 {
			continue
		}
		for _, rows := range []int{0, 1, 2, 5} {
			for _, extra := range []int{0, 3} {
				f(rows, cols, cols+extra, (rows+cols+extra)%8)
			}
		}
	}
	f(3, 3073, 3080, 1)
}

// testRowKernel checks a kernel that updates the matrix m in place from the
// vector b (len cols) bit for bit against ref applied per element.
func testRowKernel[T Float](k kernelID, call func(m []T, rows, cols, stride int, b []T), ref func(m, b T) T) func(t *testing.T) {
	return func(t *testing.T) {
		forLevels(t, k, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			matShapes(func(rows, cols, stride, off int) {
				m := guardedMat[T](r, rows, cols, stride, off)
				b := randVec[T](r, cols, off/2)
				if cols%3 == 1 {
					withSpecials(r, b.S)
				}
				m0, b0 := clone(m.S), clone(b.S)
				call(m.S, rows, cols, stride, b.S)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if w := ref(m0[i*stride+j], b0[j]); !sameBits(m.S[i*stride+j], w) {
							t.Fatalf("rows=%d cols=%d stride=%d: [%d,%d] = %v, want %v", rows, cols, stride, i, j, m.S[i*stride+j], w)
						}
					}
				}
				m.check(t, kernelNames[k])
				checkUnmodified(t, kernelNames[k]+" b", b.S, b0)
			})
		})
	}
}

func TestAddBias(t *testing.T) {
	both(t, testRowKernel(kAddBias, AddBias[float32], func(m, b float32) float32 { return m + b }),
		testRowKernel(kAddBias, AddBias[float64], func(m, b float64) float64 { return m + b }))
}

func TestBiasReLU(t *testing.T) {
	ref32 := func(m, b float32) float32 {
		if v := m + b; !(v < 0) {
			return v
		}
		return 0
	}
	ref64 := func(m, b float64) float64 {
		if v := m + b; !(v < 0) {
			return v
		}
		return 0
	}
	both(t, testRowKernel(kBiasReLU, BiasReLU[float32], ref32), testRowKernel(kBiasReLU, BiasReLU[float64], ref64))
}

func TestColSum(t *testing.T) { both(t, testColSum[float32], testColSum[float64]) }

// ColSum adds in row order on every ISA, so it matches the naive loop bit
// for bit.
func testColSum[T Float](t *testing.T) {
	forLevels(t, kColSum, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		matShapes(func(rows, cols, stride, off int) {
			m := guardedMat[T](r, rows, cols, stride, off)
			d := randVec[T](r, cols, (off+1)%8) // stale contents must be overwritten
			m0 := clone(m.S)
			ColSum(d.S, m.S, rows, cols, stride)
			for j := 0; j < cols; j++ {
				var s T
				for i := 0; i < rows; i++ {
					s += m0[i*stride+j]
				}
				if !sameBits(d.S[j], s) {
					t.Fatalf("rows=%d cols=%d: dst[%d] = %v, want %v", rows, cols, j, d.S[j], s)
				}
			}
			d.check(t, "ColSum")
			checkUnmodified(t, "ColSum m", m.S, m0)
		})
	})
}

func TestRowMax(t *testing.T) { both(t, testRowMax[float32], testRowMax[float64]) }

func testRowMax[T Float](t *testing.T) {
	forLevels(t, kRowMax, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 26))
		matShapes(func(rows, cols, stride, off int) {
			m := guardedMat[T](r, rows, cols, stride, off)
			for i := 0; i < rows; i++ {
				row := maxInput[T](r, cols, 0, r.IntN(3) == 0)
				copy(m.S[i*stride:i*stride+cols], row.S)
			}
			d := guarded[T](rows, off%3)
			m0 := clone(m.S)
			RowMax(d.S, m.S, rows, cols, stride)
			for i := 0; i < rows; i++ {
				if w := refMax(m0[i*stride : i*stride+cols]); !sameBits(d.S[i], w) {
					t.Fatalf("rows=%d cols=%d: dst[%d] = %v, want %v", rows, cols, i, d.S[i], w)
				}
			}
			d.check(t, "RowMax")
			checkUnmodified(t, "RowMax m", m.S, m0)
		})
	})
}

func TestU8ToFloat(t *testing.T) { both(t, testU8ToFloat[float32], testU8ToFloat[float64]) }

// U8ToFloat is one conversion (exact) and one subtraction: bit for bit.
func testU8ToFloat[T Float](t *testing.T) {
	forLevels(t, kU8ToFloat, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 28))
		for _, n := range testLens {
			for off := 0; off <= maxOffset; off++ {
				srcBuf := make([]uint8, n+off+16)
				for i := range srcBuf {
					srcBuf[i] = uint8(r.Uint32())
				}
				src := srcBuf[off : off+n : off+n]
				src0 := append([]uint8(nil), src...)
				mean := randVec[T](r, n, (off+2)%8)
				for i := range mean.S {
					mean.S[i] *= 255
				}
				if n%5 == 2 {
					withSpecials(r, mean.S)
				}
				mean0 := clone(mean.S)
				d := guarded[T](n, (off+5)%8)
				U8ToFloat(d.S, src, mean.S)
				for i := range src {
					if w := T(src0[i]) - mean0[i]; !sameBits(d.S[i], w) {
						t.Fatalf("n=%d off=%d i=%d: %d - %v = %v, want %v", n, off, i, src0[i], mean0[i], d.S[i], w)
					}
				}
				d.check(t, "U8ToFloat")
				checkUnmodified(t, "U8ToFloat mean", mean.S, mean0)
				for i := range src {
					if src[i] != src0[i] {
						t.Fatalf("U8ToFloat modified src[%d]", i)
					}
				}
			}
		}
		// All 256 byte values.
		src := make([]uint8, 256)
		for i := range src {
			src[i] = uint8(i)
		}
		mean := make([]T, 256)
		d := make([]T, 256)
		U8ToFloat(d, src, mean)
		for i := range d {
			if d[i] != T(i) {
				t.Fatalf("U8ToFloat(%d) = %v", i, d[i])
			}
		}
	})
}

var _ = math.Inf

// TestPrefetch: a hint only. Any length and alignment (a last partial
// line, a slice ending just before the end of its array) runs without a
// fault and leaves the bytes as they were.
func TestPrefetch(t *testing.T) {
	buf := make([]byte, 600)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	want := append([]byte(nil), buf...)
	for off := range 4 {
		for n := 0; off+n <= len(buf); n++ {
			Prefetch(buf[off : off+n])
			Prefetch(buf[off : off+n : off+n])
		}
	}
	for i := range buf {
		if buf[i] != want[i] {
			t.Fatalf("Prefetch modified b[%d]", i)
		}
	}
}
