package twolayer

import (
	"math"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// This file holds the reference forward and backward passes: plain,
// obviously correct code that every fast path is tested against. Keep it
// that way; fast paths live in their own files.

// LossNaive returns the loss on (X, y) with regularisation reg and its
// gradients, with explicit loops and everything computed and accumulated in
// float64 (gradients rounded to T at the end), the reference:
//
//	h_i  = max(0, x_i·W1 + B1),  s_i = h_i·W2 + B2
//	loss = (1/N)·Σᵢ −log softmax(s_i)[yᵢ] + reg·(ΣW1² + ΣW2²)
//
// and the gradients by the chain rule (ReLU gradient 0 where h_i = 0;
// regulariser gradient 2·reg·W). It panics, naming the argument and shapes,
// if shapes do not conform, a label is out of [0, C) or X is empty.
func (n *Net[T]) LossNaive(X blas.Matrix[T], y []int, reg float64) (float64, Grads[T]) {
	n.checkXy("LossNaive", X, y)
	N, D := X.Rows, X.Cols
	_, H, C := n.Dims()
	dW1 := make([]float64, D*H)
	dW2 := make([]float64, H*C)
	db1 := make([]float64, H)
	db2 := make([]float64, C)
	h := make([]float64, H)
	s := make([]float64, C)
	ds := make([]float64, C)
	dh := make([]float64, H)
	loss := 0.0
	for i := 0; i < N; i++ {
		x := X.Row(i)
		// Forward.
		for k := 0; k < H; k++ {
			z := float64(n.B1[k])
			for d := 0; d < D; d++ {
				z += float64(float64(x[d]) * float64(n.W1.At(d, k)))
			}
			h[k] = math.Max(0, z)
		}
		for c := 0; c < C; c++ {
			z := float64(n.B2[c])
			for k := 0; k < H; k++ {
				z += float64(h[k] * float64(n.W2.At(k, c)))
			}
			s[c] = z
		}
		maxS := math.Inf(-1)
		for c := 0; c < C; c++ {
			maxS = math.Max(maxS, s[c])
		}
		sum := 0.0
		for c := 0; c < C; c++ {
			ds[c] = math.Exp(s[c] - maxS)
			sum += ds[c]
		}
		loss += math.Log(sum) - (s[y[i]] - maxS)
		// Backward: ds = (p − onehot(y)) / N.
		for c := 0; c < C; c++ {
			ds[c] /= sum
			if c == y[i] {
				ds[c]--
			}
			ds[c] /= float64(N)
			db2[c] += ds[c]
		}
		for k := 0; k < H; k++ {
			g := 0.0
			for c := 0; c < C; c++ {
				dW2[k*C+c] += float64(h[k] * ds[c])
				g += float64(ds[c] * float64(n.W2.At(k, c)))
			}
			if h[k] <= 0 {
				g = 0
			}
			dh[k] = g
			db1[k] += g
		}
		for d := 0; d < D; d++ {
			for k := 0; k < H; k++ {
				dW1[d*H+k] += float64(float64(x[d]) * dh[k])
			}
		}
	}
	var g Grads[T]
	var sq1, sq2 float64
	g.W1, sq1 = regularise(n.W1, dW1, reg)
	g.W2, sq2 = regularise(n.W2, dW2, reg)
	g.B1, g.B2 = toT[T](db1), toT[T](db2)
	return loss/float64(N) + float64(reg*(sq1+sq2)), g
}

// regularise returns dW + 2·reg·W rounded to T (dW is W's shape, compact,
// in float64) and ΣW².
func regularise[T kernels.Float](W blas.Matrix[T], dW []float64, reg float64) (blas.Matrix[T], float64) {
	out := blas.NewMatrix[T](W.Rows, W.Cols)
	sq := 0.0
	for i := 0; i < W.Rows; i++ {
		for j := 0; j < W.Cols; j++ {
			w := float64(W.At(i, j))
			sq += float64(w * w)
			out.Set(i, j, T(dW[i*W.Cols+j]+float64(2*reg*w)))
		}
	}
	return out, sq
}

func toT[T kernels.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// LossVectorized is LossNaive's computation in matrix form, the vectorized
// reference (and Loss's implementation until a fast path replaces it):
//
//	forward:  H = ReLU(X·W1 + B1)  (N×H),  S = H·W2 + B2  (N×C)
//	loss:     softmax cross-entropy of S's rows, in float64; dS = (P − Y)/N
//	backward: dW2 = Hᵀ·dS + 2·reg·W2, dB2 = colsum(dS),
//	          dH = dS·W2ᵀ masked where H = 0,
//	          dW1 = Xᵀ·dH + 2·reg·W1, dB1 = colsum(dH)
//
// Matrix products use blas.Gemm in T; the loss and the column sums are
// accumulated in float64. Same signature and panics as LossNaive.
func (n *Net[T]) LossVectorized(X blas.Matrix[T], y []int, reg float64) (float64, Grads[T]) {
	n.checkXy("LossVectorized", X, y)
	N := X.Rows
	_, H, C := n.Dims()
	h := blas.NewMatrix[T](N, H)
	s := blas.NewMatrix[T](N, C)
	n.forward(h, s, X)
	ds := s // dS overwrites S
	loss := train.CrossEntropy("twolayer.LossVectorized", ds, s, y)
	var g Grads[T]
	g.W2 = blas.NewMatrix[T](H, C)
	g.B2 = make([]T, C)
	dh := blas.NewMatrix[T](N, H)
	affineBackward(dh, g.W2, g.B2, ds, h, n.W2)
	reluBackward(dh, h)
	g.W1 = blas.NewMatrix[T](n.W1.Rows, H)
	g.B1 = make([]T, H)
	affineBackward(blas.Matrix[T]{}, g.W1, g.B1, dh, X, n.W1)
	addReg(g.W1, n.W1, reg)
	addReg(g.W2, n.W2, reg)
	return loss + float64(reg*(sumSq(n.W1)+sumSq(n.W2))), g
}

// forward computes h = ReLU(x·W1 + B1) and s = h·W2 + B2.
// x is (N, D), h is (N, H), s is (N, C); h and s are overwritten.
func (n *Net[T]) forward(h, s, x blas.Matrix[T]) {
	affineForward(h, x, n.W1, n.B1)
	reluForward(h)
	affineForward(s, h, n.W2, n.B2)
}

// affineForward sets out = x·w + b (b added to every row).
// x is (N, K), w is (K, M), b is (M), out is (N, M), overwritten.
func affineForward[T kernels.Float](out, x, w blas.Matrix[T], b []T) {
	blas.Gemm(false, false, 1, x, w, 0, out)
	for i := 0; i < out.Rows; i++ {
		row := out.Row(i)
		for j := range row {
			row[j] += b[j]
		}
	}
}

// reluForward sets h = max(0, h) in place (NaN propagates). h is (N, H).
func reluForward[T kernels.Float](h blas.Matrix[T]) {
	for i := 0; i < h.Rows; i++ {
		row := h.Row(i)
		for j, v := range row {
			if v < 0 { // NaN stays NaN, like np.maximum
				row[j] = 0
			}
		}
	}
}

// affineBackward, for out = x·w + b, overwrites dw = xᵀ·dout, db =
// colsum(dout) (summed in float64) and, unless dx is empty (0×0),
// dx = dout·wᵀ. dout is (N, M), x is (N, K), w is (K, M).
func affineBackward[T kernels.Float](dx, dw blas.Matrix[T], db []T, dout, x, w blas.Matrix[T]) {
	blas.Gemm(true, false, 1, x, dout, 0, dw)
	for j := range db {
		s := 0.0
		for i := 0; i < dout.Rows; i++ {
			s += float64(dout.At(i, j))
		}
		db[j] = T(s)
	}
	if dx.Rows != 0 || dx.Cols != 0 {
		blas.Gemm(false, true, 1, dout, w, 0, dx)
	}
}

// reluBackward zeroes dh where the ReLU output h is 0 (h <= 0), in place.
// dh and h are (N, H).
func reluBackward[T kernels.Float](dh, h blas.Matrix[T]) {
	for i := 0; i < h.Rows; i++ {
		d, hr := dh.Row(i), h.Row(i)
		for j, v := range hr {
			if v <= 0 {
				d[j] = 0
			}
		}
	}
}

// addReg adds 2·reg·w to dw. Both are w's shape.
func addReg[T kernels.Float](dw, w blas.Matrix[T], reg float64) {
	r := T(2 * reg)
	for i := 0; i < w.Rows; i++ {
		d, wr := dw.Row(i), w.Row(i)
		for j := range d {
			d[j] += T(r * wr[j])
		}
	}
}

// sumSq returns ΣW² accumulated in float64.
func sumSq[T kernels.Float](W blas.Matrix[T]) float64 {
	s := 0.0
	for i := 0; i < W.Rows; i++ {
		for _, v := range W.Row(i) {
			s += float64(float64(v) * float64(v))
		}
	}
	return s
}
