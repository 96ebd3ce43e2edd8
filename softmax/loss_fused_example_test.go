package softmax_test

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/softmax"
)

// A LossWorkspace makes repeated loss evaluations (a training loop, a
// hyperparameter sweep) allocation-free: the gradient goes into a matrix
// the caller keeps.
func ExampleLossWorkspace() {
	const N, D, C = 4, 3, 2
	X := blas.FromSlice(N, D, []float64{
		1, 0, 1,
		0, 1, 1,
		1, 1, 1,
		0, 0, 1,
	})
	y := []int{0, 1, 1, 0}
	W := blas.NewMatrix[float64](D, C) // all-zero weights: every class equally likely
	dW := blas.NewMatrix[float64](D, C)

	ws := softmax.NewLossWorkspace[float64]()
	loss := ws.Softmax(dW, W, X, y, 0.1)
	fmt.Printf("loss %.6f (log 2 = 0.693147)\n", loss)
	fmt.Printf("dW row 1: %.3f %.3f\n", dW.At(1, 0), dW.At(1, 1))
	// Output:
	// loss 0.693147 (log 2 = 0.693147)
	// dW row 1: 0.250 -0.250
}
