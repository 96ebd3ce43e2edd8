package gradcheck_test

import (
	"fmt"

	"github.com/nnkern/nnkern/gradcheck"
	"github.com/nnkern/nnkern/nprand"
)

// Check the analytic gradient of f(x) = Σ xᵢ³ numerically.
func Example() {
	x := []float64{0.5, -1, 2}
	f := func() float64 {
		s := 0.0
		for _, v := range x {
			s += v * v * v
		}
		return s
	}
	analytic := make([]float64, len(x))
	for i, v := range x {
		analytic[i] = 3 * v * v
	}
	num := gradcheck.Numerical(f, x, 1e-5)
	fmt.Println(gradcheck.RelError(num, analytic) < 1e-9)
	for _, c := range gradcheck.Sparse(f, x, analytic, 2, 1e-5, nprand.New(0)) {
		fmt.Printf("x[%d]: numerical %.6f analytic %.6f\n", c.Index, c.Numerical, c.Analytic)
	}
	// Output:
	// true
	// x[0]: numerical 0.750000 analytic 0.750000
	// x[1]: numerical 3.000000 analytic 3.000000
}
