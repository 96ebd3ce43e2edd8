package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
)

// The canonical order of the reductions, written out plainly as the
// package documentation states it (64 float32 or 32 float64 partial sums,
// element i into partial i mod P, a full halving tree with no level
// skipped), independently of canonSum/treeSum. Every level must reproduce
// it bit for bit.

// refPartials is P for accumulators of type A.
func refPartials[A Float]() int {
	if dtype.Is32[A]() {
		return 64
	}
	return 32
}

// canonRef returns the canonical reduction of n terms, where add(i, p)
// folds term i into the partial sum p.
func canonRef[A Float](n int, add func(i int, p A) A) A {
	p := make([]A, refPartials[A]())
	for i := 0; i < n; i++ {
		p[i%len(p)] = add(i, p[i%len(p)])
	}
	for h := len(p) / 2; h >= 1; h /= 2 {
		for i := 0; i < h; i++ {
			p[i] = p[i] + p[i+h]
		}
	}
	return p[0]
}

func canonRefSum[A Float](x []A) A {
	return canonRef(len(x), func(i int, p A) A { return p + x[i] })
}

// sameOrNaN reports whether a and b have the same bits or are both NaN
// (NaN payloads and signs are not part of the numerical contract).
func sameOrNaN[T Float](a, b T) bool { return sameBits(a, b) || (a != a && b != b) }

// TestTreeSumSkip: skipping the levels whose upper half no element reached
// is an exact identity (a partial sum that starts at +0 never becomes −0),
// including with special values.
func TestTreeSumSkip(t *testing.T) {
	both(t, testTreeSumSkip[float32], testTreeSumSkip[float64])
}

func testTreeSumSkip[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for trial := 0; trial < 20000; trial++ {
		n := r.IntN(3 * refPartials[T]())
		x := randVec[T](r, n, 0).S
		if trial%3 == 0 {
			withSpecials(r, x)
		}
		if trial%5 == 0 {
			// Cancellation to exact zeros, and negative zeros.
			for i := range x {
				switch r.IntN(4) {
				case 0:
					x[i] = T(math.Copysign(0, -1))
				case 1:
					if i > 0 {
						x[i] = -x[i-1]
					}
				}
			}
		}
		if got, want := canonSum(x), canonRefSum(x); !sameBits(got, want) {
			t.Fatalf("n=%d: canonSum %v (%#x), plain canonical order %v (%#x); x=%v", n, got, bitsOf(got), want, bitsOf(want), x)
		}
	}
}

// TestCanonicalReductions: Dot, Sum and SumSq at every level give the
// bits of the canonical order, on every length that reaches a different
// block/ladder/tail path, every misalignment, with and without special
// values.
func TestCanonicalReductions(t *testing.T) {
	both(t, testCanonicalReductions[float32], testCanonicalReductions[float64])
}

func testCanonicalReductions[T Float](t *testing.T) {
	eachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(73, 74))
		for _, n := range testLens {
			for off := 0; off <= maxOffset; off++ {
				for _, sp := range []bool{false, true} {
					x, y := randVec[T](r, n, off), randVec[T](r, n, (off+5)%8)
					if sp {
						withSpecials(r, x.S)
						withSpecials(r, y.S)
					}
					xs, ys := x.S, y.S
					check := func(what string, got, want T) {
						t.Helper()
						if !sameOrNaN(got, want) {
							t.Fatalf("n=%d off=%d specials=%v: %s = %v (%#x), canonical order %v (%#x)", n, off, sp, what, got, bitsOf(got), want, bitsOf(want))
						}
					}
					check("Dot", Dot(xs, ys), canonRef(n, func(i int, p T) T { return FMA(xs[i], ys[i], p) }))
					check("Sum", Sum(xs), canonRefSum(xs))
					check("SumSq", SumSq(xs), canonRef(n, func(i int, p T) T { return FMA(xs[i], xs[i], p) }))
				}
			}
		}
	})
}

// rowsRef computes what SoftmaxRows (ce false) or SoftmaxCERows (ce true)
// must return and write, from their documented formulas, with the
// canonical row sums written out plainly.
func rowsRef[T Float](s []T, rows, cols, stride int, y []int, scale T, ce bool) (d []T, loss float64) {
	d = make([]T, len(s))
	var prod, shifts float64
	exp2 := 0
	for i := 0; i < rows; i++ {
		if ce && i%64 == 0 {
			prod, exp2, shifts = 1, 0, 0
		}
		row := s[i*stride : i*stride+cols]
		m := T(math.Inf(-1))
		for _, v := range row {
			if v != v {
				m = v
				break
			}
			if v > m {
				m = v
			}
		}
		e := make([]T, cols)
		for j, v := range row {
			e[j] = expScalar(v - m)
		}
		z := canonRefSum(e)
		for j := range e {
			if ce {
				d[i*stride+j] = e[j] * (1 / z) * scale
			} else {
				d[i*stride+j] = e[j] / z
			}
		}
		if !ce {
			continue
		}
		d[i*stride+y[i]] -= scale
		prod *= float64(z)
		if prod > 0x1p500 {
			prod *= 0x1p-500
			exp2 += 500
		}
		shifts += float64(row[y[i]] - m)
		if i%64 == 63 || i == rows-1 {
			loss += Log(prod) + float64(float64(exp2)*math.Ln2) - shifts
		}
	}
	return d, loss
}

// hingeRef computes what HingeRows must return and write, from its
// documented formula, with the canonical float64 row sums written out
// plainly.
func hingeRef[T Float](s []T, rows, cols, stride int, y []int, scale T) (d []T, loss float64) {
	d = make([]T, len(s))
	for i := 0; i < rows; i++ {
		row := s[i*stride : i*stride+cols]
		sy := row[y[i]]
		pos := make([]float64, cols)
		var n T
		for j, v := range row {
			if mg := (v - sy) + 1; j != y[i] && !(mg <= 0) {
				pos[j] = float64(mg)
				d[i*stride+j] = scale
				n++
			}
		}
		d[i*stride+y[i]] = -n * scale
		loss += canonRefSum(pos)
	}
	return d, loss
}

// TestCanonicalRows: SoftmaxRows, SoftmaxCERows and HingeRows at every
// level give the bits of their documented formulas (canonical row sums,
// the blocked product of the cross-entropy loss), on every row length up
// to 2·64+3 and longer ones, with and without special values.
func TestCanonicalRows(t *testing.T) {
	both(t, testCanonicalRows[float32], testCanonicalRows[float64])
}

func testCanonicalRows[T Float](t *testing.T) {
	shapes := softmaxShapes()
	shapes = append(shapes, smShape{129, 7, 9}, smShape{70, 64, 64}, smShape{3, 300, 311})
	eachLevel(t, func(t *testing.T, l Level) {
		r := rand.New(rand.NewPCG(75, 76))
		for _, sh := range shapes {
			for _, sp := range []bool{false, true} {
				s := guardedMat[T](r, sh.rows, sh.cols, sh.stride, sh.cols%8)
				fillScores(r, s, 20, sp)
				y := make([]int, sh.rows)
				for i := range y {
					y[i] = r.IntN(sh.cols)
				}
				scale := T(1 / float64(max(sh.rows, 1)))
				cmp := func(what string, got, want []T, gl, wl float64) {
					t.Helper()
					for i := 0; i < sh.rows; i++ {
						for j := 0; j < sh.cols; j++ {
							k := i*sh.stride + j
							if !sameOrNaN(got[k], want[k]) {
								t.Fatalf("%s %+v specials=%v: row %d col %d: %v (%#x), want %v (%#x)", what, sh, sp, i, j, got[k], bitsOf(got[k]), want[k], bitsOf(want[k]))
							}
						}
					}
					if !sameOrNaN(gl, wl) {
						t.Fatalf("%s %+v specials=%v: loss %v (%#x), want %v (%#x)", what, sh, sp, gl, math.Float64bits(gl), wl, math.Float64bits(wl))
					}
				}
				d := guardedMat[T](r, sh.rows, sh.cols, sh.stride, (sh.cols+3)%8)
				SoftmaxRows(d.S, s.S, sh.rows, sh.cols, sh.stride)
				want, _ := rowsRef(s.S, sh.rows, sh.cols, sh.stride, y, scale, false)
				cmp("SoftmaxRows", d.S, want, 0, 0)
				loss := SoftmaxCERows(d.S, s.S, sh.rows, sh.cols, sh.stride, y, scale)
				want, wl := rowsRef(s.S, sh.rows, sh.cols, sh.stride, y, scale, true)
				cmp("SoftmaxCERows", d.S, want, loss, wl)
				loss = HingeRows(d.S, s.S, sh.rows, sh.cols, sh.stride, y, scale)
				want, wl = hingeRef(s.S, sh.rows, sh.cols, sh.stride, y, scale)
				cmp("HingeRows", d.S, want, loss, wl)
				d.check(t, "rows")
			}
		}
	})
}

// TestAxpyFused: y[i] = FMA(a, x[i], y[i]) exactly, float32 and float64,
// with special values.
func TestAxpyFused(t *testing.T) {
	both(t, testAxpyFused[float32], testAxpyFused[float64])
}

func testAxpyFused[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	for _, n := range testLens {
		x, y := randVec[T](r, n, 0), randVec[T](r, n, 3)
		if n%3 == 0 {
			withSpecials(r, x.S)
		}
		a := T(r.NormFloat64())
		y0, x0 := clone(y.S), clone(x.S)
		AxpyFused(a, x.S, y.S)
		for i := range y.S {
			if w := FMA(a, x0[i], y0[i]); !sameOrNaN(y.S[i], w) {
				t.Fatalf("n=%d i=%d: %v, want FMA %v", n, i, y.S[i], w)
			}
		}
		y.check(t, "AxpyFused")
		checkUnmodified(t, "AxpyFused x", x.S, x0)
	}
	mustPanic(t, func() { AxpyFused(1, make([]T, 2), make([]T, 3)) }, "AxpyFused")
}
