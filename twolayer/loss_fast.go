package twolayer

// The fast two-layer loss: GEMMs from package blas, fused elementwise
// kernels from package kernels, every buffer in a Workspace.
//
//	forward                                  backward
//	H  = X·W1        (N,D)·(D,Hd)  Gemm      dS  = (P − onehot)/N   SoftmaxCERows
//	H  = max(0,H+b1) BiasReLU                dW2 = Hᵀ·dS + 2·reg·W2 Gemm TN, beta=1 on 2·reg·W2
//	S  = H·W2 + b2   (N,Hd)·(Hd,C) Gemm      db2 = colsum(dS)       ColSum
//	                                         dH  = dS·W2ᵀ           Gemm NT
//	                                         dH[H <= 0] = 0         ReLUBackward
//	                                         dW1 = Xᵀ·dH + 2·reg·W1 Gemm TN
//	                                         db1 = colsum(dH)       ColSum
//
// In a training step the SGD update is folded into the weight-gradient
// GEMMs: W ← (1 − 2·lr·reg)·W − lr·(Aᵀ·dB) is one Gemm with alpha = −lr and
// beta = 1 − 2·lr·reg on W itself, so dW1 and dW2 are never materialised.

import (
	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// Workspace holds the activations of the fast two-layer loss for batches
// of up to the largest N it has seen, so that a training loop allocates
// nothing per iteration. A Workspace must not be used by two goroutines at
// once.
type Workspace[T kernels.Float] struct {
	n, hd, c int
	hbuf     []T // (N, Hd) hidden activations
	sbuf     []T // (N, C) scores, then dS
	dhbuf    []T // (N, Hd) hidden gradient
	colbuf   []T // max(Hd, C) column sums
}

// NewWorkspace returns an empty workspace; it sizes itself on first use.
func NewWorkspace[T kernels.Float]() *Workspace[T] { return &Workspace[T]{} }

func (ws *Workspace[T]) resize(n, hd, c int) {
	if n <= ws.n && hd == ws.hd && c == ws.c {
		return
	}
	ws.n, ws.hd, ws.c = max(n, ws.n), hd, c
	ws.hbuf = make([]T, ws.n*hd)
	ws.sbuf = make([]T, ws.n*c)
	ws.dhbuf = make([]T, ws.n*hd)
	ws.colbuf = make([]T, max(hd, c))
}

// forward computes the hidden activations H (N, Hd) and the scores S
// (N, C) of X (N, D) into the workspace and returns views of them.
func (ws *Workspace[T]) forward(X, W1 blas.Matrix[T], b1 []T, W2 blas.Matrix[T], b2 []T) (H, S blas.Matrix[T]) {
	n, hd, c := X.Rows, W1.Cols, W2.Cols
	ws.resize(n, hd, c)
	H = blas.FromSlice(n, hd, ws.hbuf[:n*hd])
	S = blas.FromSlice(n, c, ws.sbuf[:n*c])
	// H = max(0, X·W1 + b1): (N,Hd) = (N,D)·(D,Hd); overwrites
	blas.Gemm(false, false, 1, X, W1, 0, H)
	kernels.BiasReLU(H.Data, n, hd, hd, b1)
	// S = H·W2 + b2: (N,C) = (N,Hd)·(Hd,C); overwrites
	blas.Gemm(false, false, 1, H, W2, 0, S)
	kernels.AddBias(S.Data, n, c, c, b2)
	return H, S
}

// lossForward runs the forward pass on the batch X (N, D), y and turns the
// scores into dS = (softmax(S) − onehot)/N in place. It returns the loss:
// mean cross-entropy + reg·(ΣW1² + ΣW2²). Labels must be in [0, C).
func (ws *Workspace[T]) lossForward(X blas.Matrix[T], y []int, W1 blas.Matrix[T], b1 []T, W2 blas.Matrix[T], b2 []T, reg float64) float64 {
	n, c := X.Rows, W2.Cols
	_, S := ws.forward(X, W1, b1, W2, b2)
	// dS = (softmax(S) − onehot)/N: (N,C), in place over S
	data := kernels.SoftmaxCERows(S.Data, S.Data, n, c, c, y, T(1/float64(n))) / float64(n)
	return data + float64(reg*(train.SumSq(W1)+train.SumSq(W2)))
}

// backward follows lossForward on the same batch. It writes the gradients
// into dW1 (D,Hd), db1 (Hd), dW2 (Hd,C), db2 (C) (overwritten), all with
// 2·reg·W folded in.
func (ws *Workspace[T]) backward(X, W1, W2 blas.Matrix[T], reg float64, dW1 blas.Matrix[T], db1 []T, dW2 blas.Matrix[T], db2 []T) {
	n, hd, c := X.Rows, W2.Rows, W2.Cols
	H, dS, dH := ws.views(n)
	// dW2 = Hᵀ·dS + 2·reg·W2: (Hd,C) = (Hd,N)·(N,C); db2 = colsum(dS)
	copyScaled(dW2, T(2*reg), W2)
	blas.Gemm(true, false, 1, H, dS, 1, dW2)
	kernels.ColSum(db2, dS.Data, n, c, c)
	// dH = dS·W2ᵀ masked by the ReLU: (N,Hd) = (N,C)·(C,Hd)
	blas.Gemm(false, true, 1, dS, W2, 0, dH)
	kernels.ReLUBackward(dH.Data, H.Data)
	// dW1 = Xᵀ·dH + 2·reg·W1: (D,Hd) = (D,N)·(N,Hd); db1 = colsum(dH)
	copyScaled(dW1, T(2*reg), W1)
	blas.Gemm(true, false, 1, X, dH, 1, dW1)
	kernels.ColSum(db1, dH.Data, n, hd, hd)
}

// sgdStep follows lossForward on the same batch: the backward pass fused
// with the SGD step W -= lr·dW, b -= lr·db on the parameters in place.
// The weight updates are single GEMMs, W ← (1 − 2·lr·reg)·W − lr·Aᵀ·dB.
func (ws *Workspace[T]) sgdStep(X blas.Matrix[T], W1 blas.Matrix[T], b1 []T, W2 blas.Matrix[T], b2 []T, reg, lr float64) {
	n := X.Rows
	H, dS, dH := ws.views(n)
	// dH = dS·W2ᵀ masked by the ReLU, with the old W2: (N,Hd) = (N,C)·(C,Hd)
	blas.Gemm(false, true, 1, dS, W2, 0, dH)
	kernels.ReLUBackward(dH.Data, H.Data)
	a, decay := T(-lr), T(1-float64(2*lr*reg))
	// W2 ← decay·W2 − lr·Hᵀ·dS: (Hd,C) = (Hd,N)·(N,C); b2 -= lr·colsum(dS)
	blas.Gemm(true, false, a, H, dS, decay, W2)
	ws.colSumAxpy(b2, a, dS)
	// W1 ← decay·W1 − lr·Xᵀ·dH: (D,Hd) = (D,N)·(N,Hd); b1 -= lr·colsum(dH)
	blas.Gemm(true, false, a, X, dH, decay, W1)
	ws.colSumAxpy(b1, a, dH)
}

// views returns the workspace's H, dS and dH for a batch of n rows.
func (ws *Workspace[T]) views(n int) (H, dS, dH blas.Matrix[T]) {
	hd, c := ws.hd, ws.c
	return blas.FromSlice(n, hd, ws.hbuf[:n*hd]), blas.FromSlice(n, c, ws.sbuf[:n*c]), blas.FromSlice(n, hd, ws.dhbuf[:n*hd])
}

// predict writes the argmax of the scores of every row of X into pred.
func (ws *Workspace[T]) predict(pred []int, X, W1 blas.Matrix[T], b1 []T, W2 blas.Matrix[T], b2 []T) {
	_, S := ws.forward(X, W1, b1, W2, b2)
	for i := range pred {
		pred[i] = kernels.ArgMax(S.Row(i))
	}
}

// copyScaled sets dst = a·src (same shape), one row at a time: a copy,
// then kernels.Scale while the row is in L1 (the same single rounding of
// a·v as a scalar loop, at twice its speed on the 3072×200 W1).
func copyScaled[T kernels.Float](dst blas.Matrix[T], a T, src blas.Matrix[T]) {
	for i := 0; i < src.Rows; i++ {
		d := dst.Data[i*dst.Stride : i*dst.Stride+src.Cols]
		copy(d, src.Data[i*src.Stride:i*src.Stride+src.Cols])
		kernels.Scale(a, d)
	}
}

// colSumAxpy computes b += a·colsum(m) (the column sums in row order, then
// one scaled add, as b -= lr·db in the reference).
func (ws *Workspace[T]) colSumAxpy(b []T, a T, m blas.Matrix[T]) {
	cs := ws.colbuf[:len(b)]
	kernels.ColSum(cs, m.Data, m.Rows, m.Cols, m.Stride)
	kernels.Axpy(a, cs, b)
}
