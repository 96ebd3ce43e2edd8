package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
)

// softmaxRef is the float64 reference of one row: probabilities, and the
// cross-entropy loss for label y (if y >= 0). A row with a NaN (or an
// infinity that makes s−m NaN) gives NaN.
func softmaxRef[T Float](s []T, y int) (p []float64, loss float64) {
	m := math.Inf(-1)
	for _, v := range s {
		if v != v {
			m = math.NaN()
			break
		}
		m = math.Max(m, float64(v))
	}
	p = make([]float64, len(s))
	z := 0.0
	for j, v := range s {
		p[j] = math.Exp(float64(v) - m)
		z += p[j]
	}
	for j := range p {
		p[j] /= z
	}
	if y >= 0 {
		loss = math.Log(z) - (float64(s[y]) - m)
	}
	return p, loss
}

// softmaxTol is the relative tolerance of one probability of a row whose
// scores span A = max_k |s_k − m| (first-order error analysis, u the unit
// roundoff of T): s_j − m rounds with absolute error <= u·A, which perturbs
// e_j relatively by u·A; Exp adds <= 2 ulp (4u); z = Σ e sums cols terms
// (cols·u) each carrying the same argument and Exp errors (u·A + 4u); the
// normalisation rounds twice or three times (3u). Total
// u·(2A + cols + 11), plus an absolute floor of the flush threshold for
// probabilities Exp flushes to 0.
func softmaxTol[T Float](s []T) (rel, abs float64) {
	m := math.Inf(-1)
	for _, v := range s {
		m = math.Max(m, float64(v))
	}
	a := 0.0
	for _, v := range s {
		a = math.Max(a, math.Abs(float64(v)-m))
	}
	abs = math.Exp(-708.39)
	if dtype.Is32[T]() {
		abs = math.Exp(-87.33)
	}
	return eps[T]() * (2*a + float64(len(s)) + 11), abs
}

type smShape struct{ rows, cols, stride int }

func softmaxShapes() []smShape {
	var sh []smShape
	for cols := 1; cols <= maxShortLen; cols++ {
		for _, rows := range []int{1, 3} {
			sh = append(sh, smShape{rows, cols, cols + (cols % 4)})
		}
	}
	return append(sh, smShape{0, 10, 10}, smShape{200, 10, 10}, smShape{130, 10, 13}, smShape{65, 33, 40}, smShape{3, 1000, 1001})
}

func fillScores[T Float](r *rand.Rand, m gm[T], spread float64, sp bool) {
	for i := 0; i < m.rows; i++ {
		for j := 0; j < m.cols; j++ {
			m.S[i*m.stride+j] = T(spread * (2*r.Float64() - 1))
		}
		if sp && r.IntN(3) == 0 {
			withSpecials(r, m.S[i*m.stride:i*m.stride+m.cols])
		}
	}
}

// checkInPlace fails unless the in-place result in has, inside the matrix,
// the bits of the out-of-place result out (a NaN matches any NaN), and in's
// guard bands are intact.
func checkInPlace[T Float](t *testing.T, what string, in, out gm[T]) {
	t.Helper()
	for k := range in.S {
		if out.inside(k+out.at) && !sameBits(in.S[k], out.S[k]) && !(in.S[k] != in.S[k] && out.S[k] != out.S[k]) {
			t.Fatalf("%s rows=%d cols=%d stride=%d: in-place result differs at %d: %v vs %v", what, in.rows, in.cols, in.stride, k, in.S[k], out.S[k])
		}
	}
	in.check(t, what+" in place")
}

func TestSoftmaxRows(t *testing.T) { both(t, testSoftmaxRows[float32], testSoftmaxRows[float64]) }

func testSoftmaxRows[T Float](t *testing.T) {
	forLevels(t, kSoftmaxRows, func(t *testing.T) {
		r := rand.New(rand.NewPCG(61, 62))
		for _, sh := range softmaxShapes() {
			for _, spread := range []float64{1, 10, 60} {
				for _, sp := range []bool{false, true} {
					s := guardedMat[T](r, sh.rows, sh.cols, sh.stride, sh.cols%8)
					fillScores(r, s, spread, sp)
					s0 := clone(s.S)
					p := guardedMat[T](r, sh.rows, sh.cols, sh.stride, (sh.cols+3)%8)
					SoftmaxRows(p.S, s.S, sh.rows, sh.cols, sh.stride)
					for i := 0; i < sh.rows; i++ {
						row := s0[i*sh.stride : i*sh.stride+sh.cols]
						want, _ := softmaxRef(row, -1)
						rel, abs := softmaxTol(row)
						for j, w := range want {
							got := float64(p.S[i*sh.stride+j])
							if math.IsNaN(w) != math.IsNaN(got) || math.Abs(got-w) > rel*w+abs {
								t.Fatalf("%+v spread %v row %d col %d: p=%v, want %v (rel tol %g); row %v", sh, spread, i, j, got, w, rel, row)
							}
						}
					}
					p.check(t, "SoftmaxRows")
					checkUnmodified(t, "SoftmaxRows s", s.S, s0)
					// In place gives the same bits.
					SoftmaxRows(s.S, s.S, sh.rows, sh.cols, sh.stride)
					checkInPlace(t, "SoftmaxRows", s, p)
				}
			}
		}
	})
}

func TestSoftmaxCERows(t *testing.T) { both(t, testSoftmaxCERows[float32], testSoftmaxCERows[float64]) }

func testSoftmaxCERows[T Float](t *testing.T) {
	forLevels(t, kSoftmaxCERows, func(t *testing.T) {
		r := rand.New(rand.NewPCG(63, 64))
		for _, sh := range softmaxShapes() {
			for _, spread := range []float64{1, 10, 60} {
				for _, sp := range []bool{false, true} {
					s := guardedMat[T](r, sh.rows, sh.cols, sh.stride, sh.cols%8)
					fillScores(r, s, spread, sp)
					y := make([]int, sh.rows)
					for i := range y {
						y[i] = r.IntN(sh.cols)
					}
					y0 := append([]int(nil), y...)
					scale := T(1 / float64(max(sh.rows, 1)))
					s0 := clone(s.S)
					ds := guardedMat[T](r, sh.rows, sh.cols, sh.stride, (sh.cols+3)%8)
					loss := SoftmaxCERows(ds.S, s.S, sh.rows, sh.cols, sh.stride, y, scale)
					wantLoss, lossTol := 0.0, 0.0
					for i := 0; i < sh.rows; i++ {
						row := s0[i*sh.stride : i*sh.stride+sh.cols]
						p, l := softmaxRef(row, y[i])
						wantLoss += l
						rel, abs := softmaxTol(row)
						lossTol += rel + eps[float64]()*math.Abs(l)
						for j, pj := range p {
							w := pj * float64(scale)
							if j == y[i] {
								w -= float64(scale)
							}
							got := float64(ds.S[i*sh.stride+j])
							tol := float64(scale)*(rel*pj+abs) + eps[T]()*float64(scale)
							if math.IsNaN(w) != math.IsNaN(got) || math.Abs(got-w) > tol {
								t.Fatalf("%+v spread %v row %d col %d (y=%d): ds=%v, want %v ± %g", sh, spread, i, j, y[i], got, w, tol)
							}
						}
					}
					if math.IsNaN(wantLoss) != math.IsNaN(loss) || math.Abs(loss-wantLoss) > lossTol {
						t.Fatalf("%+v spread %v: loss %v, want %v ± %g", sh, spread, loss, wantLoss, lossTol)
					}
					ds.check(t, "SoftmaxCERows")
					checkUnmodified(t, "SoftmaxCERows s", s.S, s0)
					for i := range y {
						if y[i] != y0[i] {
							t.Fatal("SoftmaxCERows modified y")
						}
					}
					// In place gives the same bits.
					loss2 := SoftmaxCERows(s.S, s.S, sh.rows, sh.cols, sh.stride, y, scale)
					if !sameBits(loss, loss2) && !(loss != loss && loss2 != loss2) {
						t.Fatalf("%+v: in-place loss %v, out of place %v", sh, loss2, loss)
					}
					checkInPlace(t, "SoftmaxCERows", s, ds)
				}
			}
		}
	})
}

func TestHingeRows(t *testing.T) { both(t, testHingeRows[float32], testHingeRows[float64]) }

// HingeRows computes each margin as (s_j − s_y) + 1 in T, so ds matches
// this reference bit for bit. The loss adds a row's margins in float64 in
// the canonical order and then the rows (TestCanonicalRows checks those
// bits): any order is within (number of additions)·u64·Σ margins of the
// exact sum (computed here with big.Float), so it is allowed
// (cols + rows + 2)·u64·Σ.
func testHingeRows[T Float](t *testing.T) {
	forLevels(t, kHingeRows, func(t *testing.T) {
		r := rand.New(rand.NewPCG(65, 66))
		for _, sh := range softmaxShapes() {
			for _, sp := range []bool{false, true} {
				s := guardedMat[T](r, sh.rows, sh.cols, sh.stride, sh.cols%8)
				fillScores(r, s, 2, sp)
				y := make([]int, sh.rows)
				for i := range y {
					y[i] = r.IntN(sh.cols)
				}
				scale := T(0.5)
				s0 := clone(s.S)
				ds := guardedMat[T](r, sh.rows, sh.cols, sh.stride, (sh.cols+5)%8)
				loss := HingeRows(ds.S, s.S, sh.rows, sh.cols, sh.stride, y, scale)
				want, abs := 0.0, 0.0
				exact := new(big.Float).SetPrec(2000)
				for i := 0; i < sh.rows; i++ {
					row := s0[i*sh.stride : i*sh.stride+sh.cols]
					var cnt T
					for j, v := range row {
						w := T(0)
						if j != y[i] {
							if mg := (v - row[y[i]]) + 1; !(mg <= 0) { // NaN counts
								want += float64(mg)
								abs += math.Abs(float64(mg))
								if !math.IsNaN(float64(mg)) {
									exact.Add(exact, new(big.Float).SetPrec(2000).SetFloat64(float64(mg)))
								}
								w = scale
								cnt++
							}
						} else {
							continue
						}
						if got := ds.S[i*sh.stride+j]; !sameBits(got, w) {
							t.Fatalf("%+v row %d col %d: ds=%v, want %v", sh, i, j, got, w)
						}
					}
					if got, w := ds.S[i*sh.stride+y[i]], -cnt*scale; !sameBits(got, w) {
						t.Fatalf("%+v row %d: ds[y]=%v, want %v", sh, i, got, w)
					}
				}
				if !math.IsInf(want, 0) && !math.IsNaN(want) {
					ex, _ := exact.Float64()
					tol := float64(sh.cols+sh.rows+2) * eps[float64]() * abs
					if math.Abs(loss-ex) > tol {
						t.Fatalf("%+v: loss %v, exact %v, |diff| %g > %g", sh, loss, ex, math.Abs(loss-ex), tol)
					}
				} else if !sameBits(loss, want) && !(loss != loss && want != want) {
					t.Fatalf("%+v: loss %v, want %v", sh, loss, want)
				}
				ds.check(t, "HingeRows")
				checkUnmodified(t, "HingeRows s", s.S, s0)
			}
		}
	})
}

// TestHingeRowsNaN: a NaN score makes the loss NaN at every level (numpy's
// np.maximum(0, margins) propagates it), so a diverging SVM is noticed.
func TestHingeRowsNaN(t *testing.T) {
	forLevels(t, kHingeRows, func(t *testing.T) {
		for _, cols := range []int{3, 10, 13} {
			s := make([]float64, 2*cols)
			ds := make([]float64, 2*cols)
			s[cols+cols-1] = math.NaN() // row 1, last column (a tail lane for cols 3, 13)
			if l := HingeRows(ds, s, 2, cols, cols, []int{0, 0}, 1); !math.IsNaN(l) {
				t.Fatalf("cols=%d: loss %v with a NaN score, want NaN", cols, l)
			}
			s32 := make([]float32, 2*cols)
			ds32 := make([]float32, 2*cols)
			s32[1] = float32(math.NaN())
			if l := HingeRows(ds32, s32, 2, cols, cols, []int{0, 0}, 1); !math.IsNaN(l) {
				t.Fatalf("f32 cols=%d: loss %v with a NaN score, want NaN", cols, l)
			}
		}
	})
}
