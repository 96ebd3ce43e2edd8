package gonumblas_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/nnkern/nnkern/blas/gonumblas"
)

// Example makes gonum/mat and gonum/lapack run on nnkern: one call at
// program start, then gonum as usual. mat.Dense.Mul calls Dgemm; a solve
// goes through LAPACK's LU factorization (Dgetrf, whose blocked update is
// a Dgemm for matrices larger than this one) and triangular solves.
func Example() {
	blas64.Use(gonumblas.Implementation{})

	a := mat.NewDense(3, 3, []float64{
		4, 1, 2,
		1, 5, 1,
		2, 1, 6,
	})
	b := mat.NewDense(3, 2, []float64{
		1, 0,
		0, 1,
		1, 1,
	})
	var c mat.Dense
	c.Mul(a, b) // C = A·B on nnkern's GEMM
	fmt.Printf("A·B =\n%v\n", mat.Formatted(&c))

	// Solve A·x = r for r = A·[1 2 3]ᵀ.
	r := mat.NewVecDense(3, nil)
	r.MulVec(a, mat.NewVecDense(3, []float64{1, 2, 3}))
	var x mat.VecDense
	if err := x.SolveVec(a, r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("x = [%.6f %.6f %.6f]\n", x.AtVec(0), x.AtVec(1), x.AtVec(2))
	// Output:
	// A·B =
	// ⎡6  3⎤
	// ⎢2  6⎥
	// ⎣8  7⎦
	// x = [1.000000 2.000000 3.000000]
}
