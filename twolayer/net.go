package twolayer

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
)

// Source supplies rows by index: train.Source.
type Source[T kernels.Float] = train.Source[T]

// Net is a two-layer network: scores = ReLU(X·W1 + B1)·W2 + B2.
type Net[T kernels.Float] struct {
	W1 blas.Matrix[T] // D×H
	B1 []T            // H
	W2 blas.Matrix[T] // H×C
	B2 []T            // C
}

// Grads holds the gradient of the loss with respect to each parameter of a
// Net, with the same shapes.
type Grads[T kernels.Float] struct {
	// W1, W2, B1 and B2 are the gradients of Net's fields of those names.
	W1, W2 blas.Matrix[T]
	B1, B2 []T
}

// New returns a network with W1 = std·randn(inputSize, hiddenSize) and then
// W2 = std·randn(hiddenSize, outputSize), drawn from rng in row-major order
// (the reference's draw order, so a seeded net equals numpy's), and zero
// biases. It panics if a size is not positive.
func New[T kernels.Float](inputSize, hiddenSize, outputSize int, std float64, rng *nprand.RandomState) *Net[T] {
	if inputSize <= 0 || hiddenSize <= 0 || outputSize <= 0 {
		panic(fmt.Sprintf("twolayer.New: sizes must be positive: inputSize=%d hiddenSize=%d outputSize=%d", inputSize, hiddenSize, outputSize))
	}
	randn := func(r, c int) blas.Matrix[T] {
		m := blas.NewMatrix[T](r, c)
		for i := range m.Data {
			m.Data[i] = T(std * rng.StandardNormal())
		}
		return m
	}
	n := &Net[T]{}
	n.W1 = randn(inputSize, hiddenSize)
	n.B1 = make([]T, hiddenSize)
	n.W2 = randn(hiddenSize, outputSize)
	n.B2 = make([]T, outputSize)
	return n
}

// Dims returns the input, hidden and output sizes D, H, C.
func (n *Net[T]) Dims() (D, H, C int) { return n.W1.Rows, n.W1.Cols, n.W2.Cols }

// check panics, naming fn, unless the parameters are consistent.
func (n *Net[T]) check(fn string) {
	if err := n.W1.Check(); err != nil {
		panic(fmt.Sprintf("twolayer.%s: W1: %v", fn, err))
	}
	if err := n.W2.Check(); err != nil {
		panic(fmt.Sprintf("twolayer.%s: W2: %v", fn, err))
	}
	if n.W1.Cols != n.W2.Rows || len(n.B1) != n.W1.Cols || len(n.B2) != n.W2.Cols {
		panic(fmt.Sprintf("twolayer.%s: inconsistent net: W1 %d×%d, B1 %d, W2 %d×%d, B2 %d",
			fn, n.W1.Rows, n.W1.Cols, len(n.B1), n.W2.Rows, n.W2.Cols, len(n.B2)))
	}
}

// checkX panics unless X is a valid matrix with W1.Rows columns.
func (n *Net[T]) checkX(fn string, X blas.Matrix[T]) {
	n.check(fn)
	if err := X.Check(); err != nil {
		panic(fmt.Sprintf("twolayer.%s: X: %v", fn, err))
	}
	if X.Cols != n.W1.Rows {
		panic(fmt.Sprintf("twolayer.%s: X is %d×%d but W1 is %d×%d: X.Cols != W1.Rows", fn, X.Rows, X.Cols, n.W1.Rows, n.W1.Cols))
	}
}

// checkXy panics unless X and y conform to the net, X is not empty and
// every label is in [0, C).
func (n *Net[T]) checkXy(fn string, X blas.Matrix[T], y []int) {
	n.checkX(fn, X)
	if len(y) != X.Rows {
		panic(fmt.Sprintf("twolayer.%s: len(y)=%d != X.Rows=%d (X is %d×%d)", fn, len(y), X.Rows, X.Rows, X.Cols))
	}
	if X.Rows == 0 {
		panic(fmt.Sprintf("twolayer.%s: X is empty (%d×%d): the mean loss is undefined", fn, X.Rows, X.Cols))
	}
	C := n.W2.Cols
	for i, c := range y {
		if c < 0 || c >= C {
			panic(fmt.Sprintf("twolayer.%s: y[%d]=%d out of range [0, %d) (W2 is %d×%d)", fn, i, c, C, n.W2.Rows, n.W2.Cols))
		}
	}
}

// Scores returns the N×C class scores ReLU(X·W1 + B1)·W2 + B2 of the rows
// of X. It panics if X.Cols != W1.Rows.
func (n *Net[T]) Scores(X blas.Matrix[T]) blas.Matrix[T] {
	n.checkX("Scores", X)
	_, H, C := n.Dims()
	h := blas.NewMatrix[T](X.Rows, H)
	s := blas.NewMatrix[T](X.Rows, C)
	n.forward(h, s, X)
	return s
}

// Loss returns the loss on (X, y) with regularisation reg and its
// gradients, the same function as LossVectorized computed by the fast path
// (GEMMs and fused kernels on a pooled Workspace; see loss_fast.go).
func (n *Net[T]) Loss(X blas.Matrix[T], y []int, reg float64) (float64, Grads[T]) {
	return n.lossFast(X, y, reg)
}

// Predict returns the predicted class (argmax of the scores) of every row
// of X. It panics if X.Cols != W1.Rows.
func (n *Net[T]) Predict(X blas.Matrix[T]) []int {
	n.checkX("Predict", X)
	return n.PredictSource(train.MatrixSource(X))
}

// predictBlock is the number of rows PredictSource scores at a time.
const predictBlock = 256

// PredictSource returns the predicted class of every row of src, scoring
// predictBlock rows at a time so memory does not grow with N. Ties go to
// the lowest class and a NaN score wins, as with np.argmax. It panics if
// src.Cols() != W1.Rows.
func (n *Net[T]) PredictSource(src Source[T]) []int {
	n.check("PredictSource")
	N, D := src.Rows(), src.Cols()
	if D != n.W1.Rows {
		panic(fmt.Sprintf("twolayer.PredictSource: data has %d columns but W1 is %d×%d", D, n.W1.Rows, n.W1.Cols))
	}
	_, H, C := n.Dims()
	bs := min(predictBlock, N)
	Xb := blas.NewMatrix[T](bs, D)
	Hb := blas.NewMatrix[T](bs, H)
	Sb := blas.NewMatrix[T](bs, C)
	idx := make([]int, bs)
	pred := make([]int, N)
	for i0 := 0; i0 < N; i0 += bs {
		m := min(bs, N-i0)
		for r := range m {
			idx[r] = i0 + r
		}
		x, h, s := Xb.Slice(0, m, 0, D), Hb.Slice(0, m, 0, H), Sb.Slice(0, m, 0, C)
		src.Gather(x, idx[:m])
		n.forward(h, s, x)
		for r := range m {
			pred[i0+r] = kernels.ArgMax(s.Row(r))
		}
	}
	return pred
}
