package train

import (
	"fmt"
	"math"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// CrossEntropy is the reference softmax cross-entropy of score rows, the
// loss both models' reference implementations end in: it returns the mean
// over the N rows of s of −log softmax(s_i)[y_i] (max-shifted, exp/log and
// the sum in float64) and writes ds = (softmax(s) − onehot(y)) / N. s and
// ds are (N, C) and may be the same matrix (ds then overwrites s); the
// labels must lie in [0, C). fn names the caller in the panic on
// mismatched shapes.
func CrossEntropy[T kernels.Float](fn string, ds, s blas.Matrix[T], y []int) float64 {
	N, C := s.Rows, s.Cols
	if ds.Rows != N || ds.Cols != C || len(y) != N {
		panic(fmt.Sprintf("%s: ds %d×%d, s %d×%d, len(y)=%d: want ds and s of one shape and one label per row",
			fn, ds.Rows, ds.Cols, N, C, len(y)))
	}
	p := make([]float64, C)
	loss := 0.0
	for i := 0; i < N; i++ {
		srow, drow := s.Row(i), ds.Row(i)
		maxS := math.Inf(-1)
		for _, v := range srow {
			maxS = math.Max(maxS, float64(v))
		}
		sum := 0.0
		for j, v := range srow {
			p[j] = math.Exp(float64(v) - maxS)
			sum += p[j]
		}
		loss += math.Log(sum) - (float64(srow[y[i]]) - maxS)
		for j := range drow {
			g := p[j] / sum
			if j == y[i] {
				g--
			}
			drow[j] = T(g / float64(N))
		}
	}
	return loss / float64(N)
}
