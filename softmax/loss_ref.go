package softmax

import (
	"math"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// This file holds the reference losses: plain, obviously correct code that
// every fast path is tested against. Keep it that way; fast paths live in
// their own files.

// LossNaive returns the softmax (cross-entropy) loss and its gradient with
// explicit loops, the reference:
//
//	loss = (1/N)·Σᵢ −log softmax(xᵢ·W)[yᵢ] + reg·ΣW²
//	dW   = (1/N)·Σᵢ xᵢᵀ·(softmax(xᵢ·W) − onehot(yᵢ)) + 2·reg·W
//
// W is D×C, X is N×D, y[i] in [0, C). Each row's scores are shifted by
// their maximum before exponentiation (numerically stable). Everything is
// computed and accumulated in float64; dW is rounded to T at the end. It
// panics, naming the argument and shapes, if the shapes do not conform, a
// label is out of range or X has no rows.
func LossNaive[T kernels.Float](W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	checkLossArgs("LossNaive", W, X, y)
	N, D, C := X.Rows, W.Rows, W.Cols
	dW := make([]float64, D*C) // D×C, row-major
	scores := make([]float64, C)
	probs := make([]float64, C)
	loss := 0.0
	for i := 0; i < N; i++ {
		x := X.Row(i)
		for j := 0; j < C; j++ {
			s := 0.0
			for d := 0; d < D; d++ {
				s += float64(float64(x[d]) * float64(W.At(d, j)))
			}
			scores[j] = s
		}
		maxS := math.Inf(-1)
		for j := 0; j < C; j++ {
			maxS = math.Max(maxS, scores[j])
		}
		sum := 0.0
		for j := 0; j < C; j++ {
			probs[j] = math.Exp(scores[j] - maxS)
			sum += probs[j]
		}
		for j := 0; j < C; j++ {
			probs[j] /= sum
		}
		// −log p_y computed as log(sum) − (s_y − max) to avoid log(0).
		loss += math.Log(sum) - (scores[y[i]] - maxS)
		for j := 0; j < C; j++ {
			g := probs[j]
			if j == y[i] {
				g--
			}
			for d := 0; d < D; d++ {
				dW[d*C+j] += float64(g * float64(x[d]))
			}
		}
	}
	return finish(W, dW, loss, N, reg)
}

// SVMLossNaive returns the multiclass SVM (hinge) loss and its gradient with
// explicit loops, the reference:
//
//	loss = (1/N)·Σᵢ Σ_{j≠yᵢ} max(0, sᵢⱼ − sᵢ_yᵢ + 1) + reg·ΣW²,  sᵢ = xᵢ·W
//
// with the subgradient that counts a margin only when it is > 0 (as the
// reference does). Shapes, precision and panics as LossNaive.
func SVMLossNaive[T kernels.Float](W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	checkLossArgs("SVMLossNaive", W, X, y)
	N, D, C := X.Rows, W.Rows, W.Cols
	dW := make([]float64, D*C)
	scores := make([]float64, C)
	loss := 0.0
	for i := 0; i < N; i++ {
		x := X.Row(i)
		for j := 0; j < C; j++ {
			s := 0.0
			for d := 0; d < D; d++ {
				s += float64(float64(x[d]) * float64(W.At(d, j)))
			}
			scores[j] = s
		}
		correct := scores[y[i]]
		for j := 0; j < C; j++ {
			if j == y[i] {
				continue
			}
			margin := scores[j] - correct + 1
			if margin > 0 {
				loss += margin
				for d := 0; d < D; d++ {
					dW[d*C+j] += float64(x[d])
					dW[d*C+y[i]] -= float64(x[d])
				}
			}
		}
	}
	return finish(W, dW, loss, N, reg)
}

// finish divides the summed loss and gradient by N, adds the regulariser
// reg·ΣW² and its gradient 2·reg·W (in float64), and rounds dW to T.
func finish[T kernels.Float](W blas.Matrix[T], dW []float64, loss float64, N int, reg float64) (float64, blas.Matrix[T]) {
	D, C := W.Rows, W.Cols
	out := blas.NewMatrix[T](D, C)
	sq := 0.0
	for d := 0; d < D; d++ {
		for j := 0; j < C; j++ {
			w := float64(W.At(d, j))
			sq += float64(w * w)
			out.Set(d, j, T(dW[d*C+j]/float64(N)+float64(2*reg*w)))
		}
	}
	return loss/float64(N) + float64(reg*sq), out
}

// LossVectorized is the softmax loss of LossNaive in matrix form:
//
//	S  = X·W                      (N×C, blas.Gemm in T)
//	P  = softmax(S) row by row    (float64, max-shifted)
//	dS = (P − onehot(y)) / N      (N×C, rounded to T)
//	dW = Xᵀ·dS + 2·reg·W          (D×C, blas.Gemm in T)
//
// The loss is accumulated in float64. Same signature, panics and result as
// LossNaive up to rounding (products in T).
func LossVectorized[T kernels.Float](W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	checkLossArgs("LossVectorized", W, X, y)
	N, C := X.Rows, W.Cols
	S := blas.NewMatrix[T](N, C)
	blas.Gemm(false, false, 1, X, W, 0, S)
	loss := CrossEntropy(S, S, y) // S is overwritten with dS
	return loss + float64(reg*sumSq(W)), gradFromDS(W, X, S, reg)
}

// CrossEntropy is the reference softmax cross-entropy of score rows: it
// returns the mean over the N rows of s of −log softmax(s_i)[y_i]
// (max-shifted, exp/log and the sum in float64) and writes
// ds = (softmax(s) − onehot(y)) / N. s and ds are (N, C) and may be the
// same matrix (ds then overwrites s); the labels must lie in [0, C).
// LossVectorized uses it; it is train.CrossEntropy, which twolayer's
// reference loss uses.
func CrossEntropy[T kernels.Float](ds, s blas.Matrix[T], y []int) float64 {
	return train.CrossEntropy("softmax.CrossEntropy", ds, s, y)
}

// SVMLossVectorized is the SVM loss of SVMLossNaive in matrix form:
//
//	S       = X·W                                  (N×C, blas.Gemm in T)
//	M[i,j]  = max(0, S[i,j] − S[i,yᵢ] + 1), M[i,yᵢ] = 0   (float64)
//	dS[i,j] = [M[i,j] > 0] / N,  dS[i,yᵢ] = −(count of positive margins)/N
//	dW      = Xᵀ·dS + 2·reg·W                      (D×C, blas.Gemm in T)
//
// Same signature, panics and result as SVMLossNaive up to rounding.
func SVMLossVectorized[T kernels.Float](W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	checkLossArgs("SVMLossVectorized", W, X, y)
	N, C := X.Rows, W.Cols
	S := blas.NewMatrix[T](N, C)
	blas.Gemm(false, false, 1, X, W, 0, S)
	inv := 1 / float64(N)
	loss := 0.0
	for i := 0; i < N; i++ {
		s := S.Row(i) // overwritten in place with dS's row
		correct := float64(s[y[i]])
		count := 0
		for j, v := range s {
			m := float64(v) - correct + 1
			if j != y[i] && m > 0 {
				loss += m
				count++
				s[j] = T(inv)
			} else {
				s[j] = 0
			}
		}
		s[y[i]] = T(-float64(count) * inv)
	}
	return float64(loss*inv) + float64(reg*sumSq(W)), gradFromDS(W, X, S, reg)
}

// gradFromDS returns Xᵀ·dS + 2·reg·W (D×C).
func gradFromDS[T kernels.Float](W, X, dS blas.Matrix[T], reg float64) blas.Matrix[T] {
	dW := blas.NewMatrix[T](W.Rows, W.Cols)
	blas.Gemm(true, false, 1, X, dS, 0, dW)
	r := T(2 * reg)
	for d := 0; d < W.Rows; d++ {
		g, w := dW.Row(d), W.Row(d)
		for j := range g {
			g[j] += T(r * w[j])
		}
	}
	return dW
}

// sumSq returns ΣW² accumulated in float64.
func sumSq[T kernels.Float](W blas.Matrix[T]) float64 {
	s := 0.0
	for d := 0; d < W.Rows; d++ {
		for _, v := range W.Row(d) {
			s += float64(float64(v) * float64(v))
		}
	}
	return s
}
