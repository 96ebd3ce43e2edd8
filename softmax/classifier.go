package softmax

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
)

// Kind selects a LinearClassifier's loss.
type Kind int

const (
	// KindSoftmax is the softmax (cross-entropy) classifier.
	KindSoftmax Kind = iota
	// KindSVM is the multiclass SVM (hinge loss, margin 1).
	KindSVM
)

// String returns "softmax" or "svm".
func (k Kind) String() string {
	switch k {
	case KindSoftmax:
		return "softmax"
	case KindSVM:
		return "svm"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// LinearClassifier is a linear classifier with weights W (D×C): the scores
// of a row x are x·W and its prediction is their argmax.
type LinearClassifier[T kernels.Float] struct {
	// W is D×C. Train initialises it if it is empty (0×0); a non-empty W
	// (a loaded or resumed model) is trained further as it is.
	W blas.Matrix[T]
	// Kind is the loss the classifier trains with.
	Kind Kind
}

// NewSoftmax returns an untrained softmax classifier.
func NewSoftmax[T kernels.Float]() *LinearClassifier[T] {
	return &LinearClassifier[T]{Kind: KindSoftmax}
}

// NewLinearSVM returns an untrained multiclass SVM.
func NewLinearSVM[T kernels.Float]() *LinearClassifier[T] {
	return &LinearClassifier[T]{Kind: KindSVM}
}

// Loss returns the classifier's loss and gradient with respect to W on
// (X, y) with regularisation reg: the fused fast path Loss or SVMLoss
// (the same functions as LossVectorized / SVMLossVectorized). It panics
// like those do.
func (c *LinearClassifier[T]) Loss(X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	if c.Kind == KindSVM {
		return SVMLoss(c.W, X, y, reg)
	}
	return Loss(c.W, X, y, reg)
}

// TrainConfig holds the hyperparameters of LinearClassifier.Train.
type TrainConfig struct {
	LearningRate float64 // step size (finite)
	Reg          float64 // L2 regularisation strength (>= 0)
	NumIters     int     // iterations (>= 0)
	BatchSize    int     // examples per mini-batch, drawn with replacement (> 0)
	// Log, if not nil, receives "iteration %d / %d: loss %f" every 100
	// iterations, like the reference.
	Log io.Writer
	// StartIteration resumes a run: iterations StartIteration..NumIters-1
	// are run (the rng must be the one saved with the model).
	StartIteration int
	// OnIteration, if not nil, is called after each SGD step; a non-nil
	// error stops training and is returned wrapped, with the history so far.
	OnIteration func(it int, loss float64) error
	// Update names the update rule (train.Rules): "" or "sgd" is vanilla
	// SGD, W -= LearningRate·dW; "momentum", "rmsprop" and "adam" keep
	// their state for the length of one Train call.
	Update string
}

// config is cfg as train.Run takes it: a constant learning rate.
func (cfg *TrainConfig) config() train.Config {
	return train.Config{LearningRate: cfg.LearningRate, LearningRateDecay: 1, Reg: cfg.Reg, NumIters: cfg.NumIters,
		BatchSize: cfg.BatchSize, StartIteration: cfg.StartIteration, Update: cfg.Update}
}

// ErrDiverged is wrapped by the error Train returns when the loss becomes
// NaN or ±Inf. It is train.ErrDiverged.
var ErrDiverged = train.ErrDiverged

// Train runs cfg.NumIters iterations of mini-batch SGD on (X, y) and returns
// the loss of every iteration, as the reference LinearClassifier.train does:
// if W is empty it is first set to 0.001·randn(D, C) drawn from rng in
// row-major order, with C = max(y)+1; each iteration draws its batch with
// rng.Choice(N, BatchSize, true), computes the loss and gradient on it and
// sets W -= LearningRate·dW (or applies cfg.Update). It is train.Run on
// c.TrainModel().
//
// Bad input (shapes, labels, configuration) is an error, and W and rng are
// then untouched. A NaN or infinite loss stops training with an error
// wrapping ErrDiverged that names the iteration; the returned history
// then ends with that loss, and W is left as it was before that step.
func (c *LinearClassifier[T]) Train(X blas.Matrix[T], y []int, cfg TrainConfig, rng *nprand.RandomState) ([]float64, error) {
	if err := X.Check(); err != nil {
		return nil, fmt.Errorf("softmax: Train: X: %v", err)
	}
	return c.TrainSource(MatrixSource(X), y, cfg, rng)
}

// TrainSource is Train with the training rows fetched from src: each
// mini-batch is gathered block by block (32 rows at a time) into reused
// cache-sized buffers inside the fused loss, so src.Gather is called from
// several goroutines at once, for disjoint rows (see Source).
func (c *LinearClassifier[T]) TrainSource(src Source[T], y []int, cfg TrainConfig, rng *nprand.RandomState) ([]float64, error) {
	fail := func(format string, a ...any) ([]float64, error) {
		return nil, fmt.Errorf("softmax: Train: "+format, a...)
	}
	tc := cfg.config()
	if err := tc.Check(); err != nil {
		return fail("%v", err)
	}
	if rng == nil {
		return fail("rng is nil")
	}
	N, D := src.Rows(), src.Cols()
	if N == 0 || D == 0 {
		return fail("training data is empty (%d×%d)", N, D)
	}
	if len(y) != N {
		return fail("len(y)=%d != %d training rows", len(y), N)
	}
	C := 0
	for i, v := range y {
		if v < 0 {
			return fail("label y[%d]=%d is negative", i, v)
		}
		C = max(C, v+1)
	}
	if c.W.Rows == 0 && c.W.Cols == 0 {
		if cfg.StartIteration > 0 {
			return fail("StartIteration=%d but W is empty (resume needs the saved W)", cfg.StartIteration)
		}
		W := blas.NewMatrix[T](D, C)
		for i := range W.Data {
			W.Data[i] = T(0.001 * rng.StandardNormal())
		}
		c.W = W
	} else {
		if err := c.W.Check(); err != nil {
			return fail("W: %v", err)
		}
		if c.W.Rows != D || c.W.Cols < C {
			return fail("W is %d×%d but the data has %d columns and labels up to %d", c.W.Rows, c.W.Cols, D, C-1)
		}
	}

	hist := make([]float64, 0, min(cfg.NumIters-cfg.StartIteration, train.MaxHistPrealloc))
	obs := []train.Observer{train.IterationFunc(func(it int, loss float64) error {
		hist = append(hist, loss)
		return nil
	})}
	if cfg.Log != nil {
		obs = append(obs, train.Log(cfg.Log, cfg.NumIters))
	}
	if cfg.OnIteration != nil {
		obs = append(obs, train.IterationFunc(cfg.OnIteration))
	}
	err := train.Run(context.Background(), c.trainModel(), train.Data[T]{X: src, Y: y}, tc, train.NewState[T](tc, N, rng), obs...)
	if de := (*train.DivergedError)(nil); errors.As(err, &de) {
		hist = append(hist, de.Loss)
	}
	if err != nil {
		return hist, fmt.Errorf("softmax: Train: %w", err)
	}
	return hist, nil
}

// Predict returns the predicted class (argmax of x·W) of every row of X.
// It panics if X.Cols != W.Rows.
func (c *LinearClassifier[T]) Predict(X blas.Matrix[T]) []int {
	return c.PredictSource(MatrixSource(X))
}

// predictBlock is the number of rows PredictSource scores at a time.
const predictBlock = 256

// PredictSource returns the predicted class of every row of src, scoring
// predictBlock rows at a time (memory bounded by the block, not by N). Ties
// go to the lowest class and a NaN score wins, as with np.argmax. It
// panics if src.Cols() != W.Rows or W is empty.
func (c *LinearClassifier[T]) PredictSource(src Source[T]) []int {
	N, D := src.Rows(), src.Cols()
	if c.W.Rows == 0 || c.W.Cols == 0 {
		panic(fmt.Sprintf("softmax.LinearClassifier.Predict: W is empty (%d×%d): train or load the model first", c.W.Rows, c.W.Cols))
	}
	if err := c.W.Check(); err != nil {
		panic(fmt.Sprintf("softmax.LinearClassifier.Predict: W: %v", err))
	}
	if D != c.W.Rows {
		panic(fmt.Sprintf("softmax.LinearClassifier.Predict: data has %d columns but W is %d×%d", D, c.W.Rows, c.W.Cols))
	}
	pred := make([]int, N)
	bs := min(predictBlock, N)
	Xb := blas.NewMatrix[T](bs, D)
	S := blas.NewMatrix[T](bs, c.W.Cols)
	idx := make([]int, bs)
	for i0 := 0; i0 < N; i0 += bs {
		n := min(bs, N-i0)
		for r := range n {
			idx[r] = i0 + r
		}
		xb, sb := Xb.Slice(0, n, 0, D), S.Slice(0, n, 0, c.W.Cols)
		src.Gather(xb, idx[:n])
		blas.Gemm(false, false, 1, xb, c.W, 0, sb)
		for r := range n {
			pred[i0+r] = kernels.ArgMax(sb.Row(r))
		}
	}
	return pred
}
