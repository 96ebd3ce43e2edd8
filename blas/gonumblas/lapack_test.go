package gonumblas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/mat"

	nnblas "github.com/nnkern/nnkern/blas"
)

// counting records the Dgemm calls gonum's LAPACK makes through
// Implementation, and how many of them the adapter would pass to gonum
// (C overlapping A or B).
type counting struct {
	Implementation
	calls, fallbacks *int
}

func (c counting) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, cc []float64, ldc int) {
	*c.calls++
	if m > 0 && n > 0 && k > 0 && alpha != 0 {
		am := view(a, m, k, lda, tA != blas.NoTrans)
		bm := view(b, k, n, ldb, tB != blas.NoTrans)
		cm := view(cc, m, n, ldc, false)
		if nnblas.Overlaps(cm, am) || nnblas.Overlaps(cm, bm) {
			*c.fallbacks++
		}
	}
	c.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

// TestLAPACKSolves runs gonum/mat's LU and Cholesky solves of a 200×200
// system (large enough for LAPACK's blocked algorithms, which update with
// Dgemm) on Implementation and on gonum's pure Go: the solutions agree,
// Dgemm was called, and never with overlapping operands (so none of it fell
// back to gonum).
func TestLAPACKSolves(t *testing.T) {
	const n = 200
	rng := rand.New(rand.NewPCG(15, 16))
	// A = MᵀM + n·I: symmetric positive definite and well conditioned
	// (cond < ~10), for both solvers.
	m := mat.NewDense(n, n, randSlice[float64](rng, n*n))
	var a mat.SymDense
	a.SymOuterK(1, m.T())
	for i := 0; i < n; i++ {
		a.SetSym(i, i, a.At(i, i)+n)
	}
	b := mat.NewVecDense(n, randSlice[float64](rng, n))

	solve := func(impl blas.Float64) (lu, chol *mat.VecDense) {
		prev := blas64.Implementation()
		blas64.Use(impl)
		defer blas64.Use(prev)
		var f mat.LU
		f.Factorize(&a)
		lu = new(mat.VecDense)
		if err := f.SolveVecTo(lu, false, b); err != nil {
			t.Fatal(err)
		}
		var c mat.Cholesky
		if !c.Factorize(&a) {
			t.Fatal("Cholesky: not positive definite")
		}
		chol = new(mat.VecDense)
		if err := c.SolveVecTo(chol, b); err != nil {
			t.Fatal(err)
		}
		return lu, chol
	}
	var calls, fallbacks int
	luG, cholG := solve(counting{calls: &calls, fallbacks: &fallbacks})
	luW, cholW := solve(gonum.Implementation{})
	if calls == 0 || fallbacks != 0 {
		t.Fatalf("%d Dgemm calls, %d with overlapping operands: want > 0 and 0", calls, fallbacks)
	}
	// Both solvers are backward stable: each solution's relative error is
	// O(n·eps·cond(A)) with cond(A) < 10; 1e-10 leaves three orders of
	// magnitude for the constants.
	for _, p := range []struct {
		name      string
		got, want *mat.VecDense
	}{{"LU", luG, luW}, {"Cholesky", cholG, cholW}} {
		var d mat.VecDense
		d.SubVec(p.got, p.want)
		if rel := mat.Norm(&d, math.Inf(1)) / mat.Norm(p.want, math.Inf(1)); rel > 1e-10 || math.IsNaN(rel) {
			t.Errorf("%s: solution differs from gonum's by %.3g (relative)", p.name, rel)
		}
	}
}
