package train

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// Source supplies training or evaluation rows by index, so that a trainer
// can gather each mini-batch straight from compact storage (uint8 images,
// say) into a reused float buffer instead of materialising all of X.
type Source[T kernels.Float] interface {
	Rows() int // N
	Cols() int // D (including a bias column if any)
	// Gather sets row r of dst to row idx[r], for every r. dst.Rows ==
	// len(idx) and dst.Cols == Cols(); dst may have any stride. A model
	// may gather a batch block by block from several goroutines at once
	// (softmax's fused loss does), with disjoint dst and idx: an
	// implementation that only reads shared storage is fine.
	Gather(dst blas.Matrix[T], idx []int)
}

// MatrixSource returns a Source reading the rows of X. It panics if X is
// not a valid matrix.
func MatrixSource[T kernels.Float](X blas.Matrix[T]) Source[T] {
	if err := X.Check(); err != nil {
		panic(fmt.Sprintf("train.MatrixSource: X: %v", err))
	}
	return matrixSource[T]{X}
}

type matrixSource[T kernels.Float] struct{ X blas.Matrix[T] }

func (s matrixSource[T]) Rows() int { return s.X.Rows }
func (s matrixSource[T]) Cols() int { return s.X.Cols }

func (s matrixSource[T]) Gather(dst blas.Matrix[T], idx []int) {
	if dst.Rows != len(idx) || dst.Cols != s.X.Cols {
		panic(fmt.Sprintf("train.MatrixSource.Gather: dst is %d×%d, want %d×%d (len(idx)×Cols)", dst.Rows, dst.Cols, len(idx), s.X.Cols))
	}
	for r, i := range idx {
		copy(dst.Row(r), s.X.Row(i))
	}
}
