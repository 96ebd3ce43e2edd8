package twolayer

import (
	"fmt"
	"io"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
)

// TrainConfig holds the hyperparameters of Net.Train.
type TrainConfig struct {
	LearningRate      float64 // initial step size (finite)
	LearningRateDecay float64 // factor applied to the step size after every epoch (finite, >= 0)
	Reg               float64 // L2 regularisation strength (finite, >= 0)
	NumIters          int     // iterations (>= 0)
	BatchSize         int     // examples per mini-batch, drawn with replacement (> 0)
	// Log, if not nil, receives "iteration %d / %d: loss %f" every 100
	// iterations, like the reference.
	Log io.Writer
	// StartIteration resumes a run: iterations StartIteration..NumIters-1
	// are run, with the learning rate decayed once per epoch boundary
	// before StartIteration (the rng must be the one saved with the net).
	StartIteration int
	// OnIteration, if not nil, is called once iteration it is complete
	// (after its SGD step and any epoch bookkeeping); a non-nil error stops
	// training and is returned wrapped, with the statistics so far.
	OnIteration func(it int, loss float64) error
	// OnEpoch, if not nil, is called at each epoch boundary after the
	// accuracies are recorded and the learning rate decayed; learningRate
	// is the new rate. A non-nil error stops training like OnIteration's.
	OnEpoch func(it int, trainAcc, valAcc, learningRate float64) error
	// Update names the update rule (train.Rules): "" or "sgd" is vanilla
	// SGD; "momentum", "rmsprop" and "adam" keep their state for the
	// length of one Train call.
	Update string
}

// config is cfg as train.Run takes it.
func (cfg *TrainConfig) config() train.Config {
	return train.Config{LearningRate: cfg.LearningRate, LearningRateDecay: cfg.LearningRateDecay, Reg: cfg.Reg,
		NumIters: cfg.NumIters, BatchSize: cfg.BatchSize, StartIteration: cfg.StartIteration, Update: cfg.Update}
}

// Stats is what Train records: the loss of every iteration run, and the
// mini-batch and validation accuracies at every epoch boundary.
type Stats struct {
	// LossHistory holds one loss per iteration run; TrainAccHistory and
	// ValAccHistory one accuracy per epoch boundary (NaN for validation
	// when there is no validation data).
	LossHistory     []float64
	TrainAccHistory []float64
	ValAccHistory   []float64
}

// ErrDiverged is wrapped by the error Train returns when the loss becomes
// NaN or ±Inf. It is train.ErrDiverged.
var ErrDiverged = train.ErrDiverged

// Train runs cfg.NumIters iterations of mini-batch SGD on (X, y), as the
// reference TwoLayerNet.train does: each iteration draws its batch with
// rng.Choice(N, BatchSize, true), computes Loss on it and takes a vanilla
// SGD step on every parameter (or applies cfg.Update); at every iteration it with it %
// iterationsPerEpoch == 0, iterationsPerEpoch = max(N/BatchSize, 1), after
// the step it records the accuracy on the current mini-batch and on (Xval,
// yval) (NaN if Xval has no rows) and multiplies the learning rate by
// LearningRateDecay.
//
// Bad input (shapes, labels, configuration) is an error and leaves the net
// and rng untouched. A NaN or infinite loss stops training with an error
// wrapping ErrDiverged that names the iteration; the returned Stats then
// end with that loss and the net is left as it was before that step. It
// is train.Run on n.TrainModel().
func (n *Net[T]) Train(X blas.Matrix[T], y []int, Xval blas.Matrix[T], yval []int, cfg TrainConfig, rng *nprand.RandomState) (Stats, error) {
	if err := X.Check(); err != nil {
		return Stats{}, fmt.Errorf("twolayer: Train: X: %v", err)
	}
	if err := Xval.Check(); err != nil {
		return Stats{}, fmt.Errorf("twolayer: Train: Xval: %v", err)
	}
	var val Source[T]
	if Xval.Rows > 0 || len(yval) > 0 {
		val = train.MatrixSource(Xval)
	}
	return n.TrainSource(train.MatrixSource(X), y, val, yval, cfg, rng)
}

// TrainSource is Train with the training and validation rows fetched from
// sources, one mini-batch (or prediction block) at a time. val may be nil.
func (n *Net[T]) TrainSource(src Source[T], y []int, val Source[T], yval []int, cfg TrainConfig, rng *nprand.RandomState) (Stats, error) {
	fail := func(format string, a ...any) (Stats, error) {
		return Stats{}, fmt.Errorf("twolayer: Train: "+format, a...)
	}
	tc := cfg.config()
	if err := tc.Check(); err != nil {
		return fail("%v", err)
	}
	if rng == nil {
		return fail("rng is nil")
	}
	if err := n.validate(); err != nil {
		return fail("%v", err)
	}
	D, _, C := n.Dims()
	N := src.Rows()
	if N == 0 || src.Cols() == 0 {
		return fail("training data is empty (%d×%d)", N, src.Cols())
	}
	if src.Cols() != D {
		return fail("training data has %d columns but W1 is %d×%d", src.Cols(), n.W1.Rows, n.W1.Cols)
	}
	if err := checkLabels("y", y, N, C); err != nil {
		return fail("%v", err)
	}
	nval := 0
	if val != nil {
		nval = val.Rows()
		if nval > 0 && val.Cols() != D {
			return fail("validation data has %d columns but W1 is %d×%d", val.Cols(), n.W1.Rows, n.W1.Cols)
		}
	}
	if err := checkLabels("yval", yval, nval, C); err != nil {
		return fail("%v", err)
	}

	// The learning rate at StartIteration: the decay of the epochs before.
	lr := train.NewState[T](tc, N, rng).LearningRate
	var st Stats
	st.LossHistory = make([]float64, 0, min(cfg.NumIters-cfg.StartIteration, train.MaxHistPrealloc))
	err := n.trainFast(src, y, val, yval, cfg, lr, rng, &st) // train_fast.go
	return st, err
}

// validate reports an inconsistent net as an error (check panics instead).
func (n *Net[T]) validate() (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("%v", e)
		}
	}()
	n.check("Train")
	if n.W1.Rows == 0 || n.W1.Cols == 0 || n.W2.Cols == 0 {
		return fmt.Errorf("empty net: W1 %d×%d, W2 %d×%d", n.W1.Rows, n.W1.Cols, n.W2.Rows, n.W2.Cols)
	}
	return nil
}

func checkLabels(name string, y []int, n, C int) error {
	if len(y) != n {
		return fmt.Errorf("len(%s)=%d != %d rows", name, len(y), n)
	}
	for i, c := range y {
		if c < 0 || c >= C {
			return fmt.Errorf("label %s[%d]=%d out of range [0, %d)", name, i, c, C)
		}
	}
	return nil
}
