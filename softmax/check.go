package softmax

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// checkLossArgs panics, naming fn, the argument and the shapes, unless W
// (D×C), X (N×D) and y (N labels in [0, C)) conform and N > 0.
func checkLossArgs[T kernels.Float](fn string, W, X blas.Matrix[T], y []int) {
	if err := W.Check(); err != nil {
		panic(fmt.Sprintf("softmax.%s: W: %v", fn, err))
	}
	if err := X.Check(); err != nil {
		panic(fmt.Sprintf("softmax.%s: X: %v", fn, err))
	}
	if X.Cols != W.Rows {
		panic(fmt.Sprintf("softmax.%s: X is %d×%d but W is %d×%d: X.Cols != W.Rows", fn, X.Rows, X.Cols, W.Rows, W.Cols))
	}
	if len(y) != X.Rows {
		panic(fmt.Sprintf("softmax.%s: len(y)=%d != X.Rows=%d (X is %d×%d)", fn, len(y), X.Rows, X.Rows, X.Cols))
	}
	if X.Rows == 0 {
		panic(fmt.Sprintf("softmax.%s: X is empty (%d×%d): the mean loss is undefined", fn, X.Rows, X.Cols))
	}
	for i, c := range y {
		if c < 0 || c >= W.Cols {
			panic(fmt.Sprintf("softmax.%s: y[%d]=%d out of range [0, %d) (W is %d×%d)", fn, i, c, W.Cols, W.Rows, W.Cols))
		}
	}
}
