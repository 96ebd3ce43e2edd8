package softmax

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// Source supplies training or evaluation rows by index: train.Source,
// under the name this package has always used.
type Source[T kernels.Float] = train.Source[T]

// MatrixSource returns a Source reading the rows of X (train.MatrixSource).
// It panics if X is not a valid matrix.
func MatrixSource[T kernels.Float](X blas.Matrix[T]) Source[T] {
	if err := X.Check(); err != nil {
		panic(fmt.Sprintf("softmax.MatrixSource: X: %v", err))
	}
	return train.MatrixSource(X)
}
