package train

import (
	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// SumSq returns ΣW² accumulated in float64, the regulariser's sum of the
// models' losses (reg·ΣW²), in kernels.SumSq64's canonical order (32
// float64 partial sums, element i into partial i mod 32, a halving tree)
// at SIMD speed: a single chain of float64 adds took 0.6 ms on the
// 3072×200 float32 W1 of every two-layer iteration, serial whatever
// GOMAXPROCS. A matrix whose rows are contiguous (Stride == Cols, or one
// row) is one SumSq64 over its data; otherwise each row is one SumSq64 and
// the row sums are added in row order. The order depends only on the
// shape, so the result is the same on any number of cores and ISA level.
// (The fused softmax losses add up the SumSq of 8 ranges of W's rows,
// each computed by the core that reduces those rows.)
func SumSq[T kernels.Float](W blas.Matrix[T]) float64 {
	if W.Rows == 0 || W.Cols == 0 {
		return 0
	}
	if W.Stride == W.Cols || W.Rows == 1 {
		return kernels.SumSq64(W.Data[:(W.Rows-1)*W.Stride+W.Cols])
	}
	s := 0.0
	for i := 0; i < W.Rows; i++ {
		s += kernels.SumSq64(W.Row(i))
	}
	return s
}
