package gonumblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/nnkern/nnkern/kernels"
)

// These tests compare every overridden routine with gonum's pure-Go one
// (gonum.Implementation) over the same operands: shapes with odd sizes
// and edge tiles, every transpose, leading dimensions larger than the
// columns, alpha and beta including 0, 1 and negative values, NaN in C
// or y where beta == 0 must overwrite it.
//
// Tolerance: each side computes an element as a k-term dot product
// (k-1 additions, k multiplications, fused or not), then alpha·acc and
// beta·c and their sum: at most k+2 roundings. By the standard bound
// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), each
// result is within γ(k+2)·(|alpha|·Σ|a·b| + |beta·c|) of the exact value,
// γ(n) = n·u/(1-n·u), u the unit roundoff (2⁻²⁴ for float32, 2⁻⁵³ for
// float64). The two results then differ by at most twice that, which is
// the tolerance used (per element, from the operands' own magnitudes).

// gamma returns γ(n) for T.
func gamma[T kernels.Float](n int) float64 {
	u := 0x1p-53
	var z T
	if _, ok := any(z).(float32); ok {
		u = 0x1p-24
	}
	nu := float64(n) * u
	return nu / (1 - nu)
}

// gemmer is the Dgemm/Sgemm signature for T.
type gemmer[T kernels.Float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

func gemms[T kernels.Float]() (ours, ref gemmer[T]) {
	var z T
	switch any(z).(type) {
	case float32:
		return any(gemmer[float32](Implementation{}.Sgemm)).(gemmer[T]), any(gemmer[float32](gonum.Implementation{}.Sgemm)).(gemmer[T])
	default:
		return any(gemmer[float64](Implementation{}.Dgemm)).(gemmer[T]), any(gemmer[float64](gonum.Implementation{}.Dgemm)).(gemmer[T])
	}
}

// randSlice returns n values uniform in [-1, 1).
func randSlice[T kernels.Float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(2*rng.Float64() - 1)
	}
	return s
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}

func tname(t blas.Transpose) string {
	switch t {
	case blas.NoTrans:
		return "N"
	case blas.Trans:
		return "T"
	}
	return "C"
}

func TestGemmMatchesGonum(t *testing.T) {
	t.Run("f32", testGemmMatchesGonum[float32])
	t.Run("f64", testGemmMatchesGonum[float64])
}

func testGemmMatchesGonum[T kernels.Float](t *testing.T) {
	ours, ref := gemms[T]()
	rng := rand.New(rand.NewPCG(1, 2))
	// m×n×k: degenerate, below one register tile, edge tiles in every
	// direction, more than one kc block (kc = 512 for float32, 256 for
	// float64; halved for some strides), large enough to run in parallel.
	shapes := [][3]int{
		{0, 3, 4}, {3, 0, 4}, {3, 4, 0}, {1, 1, 1}, {2, 3, 5}, {7, 9, 13},
		{13, 17, 31}, {6, 16, 8}, {25, 33, 70}, {65, 31, 300}, {37, 129, 600},
		{160, 150, 90},
	}
	alphaBeta := [][2]T{{1, 1}, {0, 2}, {-1.5, 0.25}, {2, 0}, {1, 0}, {0.5, -1}, {0, 0}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		tAs, pads, abs := transposes, []int{0, 3}, alphaBeta
		if m*n*k > 100_000 {
			// Large shapes: ConjTrans is Trans, one padding, the general
			// alpha/beta and beta == 0 (the small shapes cover the rest);
			// keeps the naive bound computation short.
			tAs, pads, abs = transposes[:2], []int{3}, alphaBeta[2:4]
		}
		for _, tA := range tAs {
			for _, tB := range transposes[:2] {
				for _, pad := range pads {
					for _, ab := range abs {
						name := fmt.Sprintf("%dx%dx%d/%s%s/pad=%d/alpha=%v/beta=%v", m, k, n, tname(tA), tname(tB), pad, ab[0], ab[1])
						gemmCase(t, name, rng, ours, ref, tA, tB, m, n, k, pad, ab[0], ab[1])
					}
				}
			}
		}
	}
}

// gemmCase runs ours and gonum's on the same operands (leading dimensions
// pad more than needed) and compares C within the bound above; it also
// checks that A and B are not written, nor C outside its m×n part, and
// that with beta == 0 a NaN in C does not reach the result.
func gemmCase[T kernels.Float](t *testing.T, name string, rng *rand.Rand, ours, ref gemmer[T], tA, tB blas.Transpose, m, n, k, pad int, alpha, beta T) {
	t.Helper()
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	lda, ldb, ldc := max(1, ac)+pad, max(1, bc)+pad, max(1, n)+pad
	a := randSlice[T](rng, max(0, ar*lda))
	b := randSlice[T](rng, max(0, br*ldb))
	c := randSlice[T](rng, max(0, m*ldc))
	nan := T(math.NaN())
	if beta == 0 {
		for i := range c {
			if i%5 == 0 {
				c[i] = nan
			}
		}
	}
	if alpha == 0 {
		// A and B must not be read: NaNs there must not reach C.
		for i := 0; i < len(a); i += 3 {
			a[i] = nan
		}
		for i := 0; i < len(b); i += 3 {
			b[i] = nan
		}
	}
	// Padding of C is a sentinel that must survive.
	sentinel := T(1234.5)
	for i := 0; i < m; i++ {
		for j := n; j < ldc; j++ {
			c[i*ldc+j] = sentinel
		}
	}
	a0, b0 := append([]T(nil), a...), append([]T(nil), b...)
	got, want := append([]T(nil), c...), append([]T(nil), c...)
	ours(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	if alpha == 0 {
		// gonum's Dgemm multiplies A by alpha even when it is 0 (a NaN
		// in A would reach C); BLAS (and this package) does not read A
		// and B: C = beta·C, checked directly.
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				if beta == 0 {
					want[i*ldc+j] = 0
				} else {
					want[i*ldc+j] *= beta
				}
			}
		}
	} else {
		ref(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	}
	if !same(a, a0) || !same(b, b0) {
		t.Fatalf("%s: A or B modified", name)
	}
	at := func(x []T, ld int, trans bool, i, j int) float64 {
		if trans {
			i, j = j, i
		}
		return float64(x[i*ld+j])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			g, w := got[i*ldc+j], want[i*ldc+j]
			if j >= n {
				if g != sentinel {
					t.Fatalf("%s: C[%d, %d] outside the %d×%d part written: %v", name, i, j, m, n, g)
				}
				continue
			}
			var s float64
			for l := 0; l < k && alpha != 0; l++ {
				s += math.Abs(at(a, lda, tA != blas.NoTrans, i, l) * at(b, ldb, tB != blas.NoTrans, l, j))
			}
			bound := math.Abs(float64(alpha))*s + math.Abs(float64(beta)*float64(c[i*ldc+j]))
			if beta == 0 {
				bound = math.Abs(float64(alpha)) * s
			}
			tol := 2 * gamma[T](k+2) * bound
			if math.IsNaN(float64(g)) || math.Abs(float64(g)-float64(w)) > tol {
				t.Fatalf("%s: C[%d, %d] = %v, gonum %v (|diff| %.3g > tol %.3g)", name, i, j, g, w, math.Abs(float64(g)-float64(w)), tol)
			}
		}
	}
}

func same[T kernels.Float](x, y []T) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] && !(x[i] != x[i] && y[i] != y[i]) {
			return false
		}
	}
	return true
}
