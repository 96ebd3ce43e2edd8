package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/nnkern/nnkern/kernels"
)

// Param is one parameter of a Model: its values and the buffer its
// gradient is written to, of the same length and layout (a matrix is its
// row-major storage, padding included: the padding's gradient is zero).
type Param[T kernels.Float] struct {
	Name string // names its update-rule state in checkpoints ("W", "b1", ...)
	W, G []T
}

// Model is what Run trains: a loss on a mini-batch, its gradients, the
// parameters they belong to, and predictions for the accuracies.
type Model[T kernels.Float] interface {
	// Loss returns the loss, regulariser included, on rows idx of src
	// with labels y (y[r] is the label of row idx[r]). Gradients or, for
	// an SGDStepper, SGDStep follows before the next Loss.
	Loss(src Source[T], idx, y []int, reg float64) float64
	// Gradients writes the gradient of the last Loss, regulariser
	// included, into the G of every parameter.
	Gradients()
	// Params returns the parameters, always the same ones in one order.
	Params() []Param[T]
	// Predict sets pred[r] to the predicted class of row idx[r] of src.
	Predict(pred []int, src Source[T], idx []int)
}

// SGDStepper is a Model that can take the vanilla SGD step of the last
// Loss itself, w -= lr·g for every parameter, fused with computing the
// gradient (which then never needs to be stored). Run uses it for the sgd
// rule; it must give the bits Gradients and the sgd rule would.
type SGDStepper interface {
	SGDStep(lr float64)
}

// Data is what a run trains and evaluates on.
type Data[T kernels.Float] struct {
	X Source[T] // training rows
	Y []int     // their labels
	// Val and YVal, if Val is not nil, are the validation rows whose
	// accuracy is measured at every epoch boundary (else it is NaN).
	Val  Source[T]
	YVal []int
	// Acc and YAcc, if Acc is not nil, are the rows whose accuracy is the
	// epoch's training accuracy (else the mini-batch's is).
	Acc  Source[T]
	YAcc []int
}

// Observer is told of every completed iteration: its loss, after its
// update and any epoch bookkeeping. A non-nil error stops the run.
type Observer interface {
	Iteration(it int, loss float64) error
}

// EpochObserver is an Observer that is also told of every epoch boundary,
// before the Iteration of that iteration. Only when one is present does
// Run measure the accuracies.
type EpochObserver interface {
	Observer
	Epoch(e Epoch) error
}

// Epoch is what Run reports at an epoch boundary: iteration It (a
// multiple of EpochLength) has taken its step with loss Loss, the
// accuracies are those of the parameters after it (zero if no
// EpochObserver asked for them), and LearningRate is the decayed rate.
type Epoch struct {
	It               int
	Loss             float64
	TrainAcc, ValAcc float64
	LearningRate     float64
}

// IterationFunc is an Observer that calls itself.
type IterationFunc func(it int, loss float64) error

// Iteration calls f.
func (f IterationFunc) Iteration(it int, loss float64) error { return f(it, loss) }

// EpochFunc is an EpochObserver that calls itself at epoch boundaries.
type EpochFunc func(e Epoch) error

// Iteration does nothing.
func (f EpochFunc) Iteration(int, float64) error { return nil }

// Epoch calls f.
func (f EpochFunc) Epoch(e Epoch) error { return f(e) }

// Log returns an Observer that writes "iteration %d / %d: loss %f" to w
// every 100 iterations, like the reference trainers.
func Log(w io.Writer, numIters int) Observer {
	return IterationFunc(func(it int, loss float64) error {
		if it%100 == 0 {
			fmt.Fprintf(w, "iteration %d / %d: loss %f\n", it, numIters, loss)
		}
		return nil
	})
}

// ErrDiverged is wrapped by the error Run returns when the loss becomes
// NaN or ±Inf.
var ErrDiverged = errors.New("loss diverged")

// DivergedError is the error Run returns when the loss of an iteration is
// NaN or ±Inf; it wraps ErrDiverged. The parameters are those before that
// iteration's update.
type DivergedError struct {
	Iteration int
	Loss      float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("iteration %d: loss is %v: %v", e.Iteration, e.Loss, ErrDiverged)
}

// Unwrap returns ErrDiverged.
func (e *DivergedError) Unwrap() error { return ErrDiverged }

// predictBlock is the number of rows an accuracy is measured on at a time.
const predictBlock = 250

// Run trains m on d from st.Iteration to cfg.NumIters-1, updating st as
// it goes (after each iteration it describes the next one). Each
// iteration draws its batch with st.RNG.Randint(0, N) B times (what
// numpy's rng.choice(N, B, replace=True) draws), computes the loss, stops
// with a *DivergedError if it is not finite, applies cfg.Update with the
// learning rate st.LearningRate to every parameter (through SGDStep for
// sgd when m has it), and at every iteration that is a multiple of
// EpochLength(N, B) measures the accuracies (if an EpochObserver wants
// them) and multiplies st.LearningRate by cfg.LearningRateDecay. Then the
// observers are told, EpochObservers first, in order; an error from one
// stops the run with that error wrapped. A cancelled ctx stops it after
// the iteration in progress (unless that was the last) with ctx's error
// wrapped. cfg.LearningRate and cfg.StartIteration are not used: st
// carries them (see NewState).
//
// Run allocates its buffers before the first iteration and nothing per
// iteration (if m and the observers do not).
func Run[T kernels.Float](ctx context.Context, m Model[T], d Data[T], cfg Config, st *State[T], obs ...Observer) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	if st == nil || st.RNG == nil {
		return errors.New("the state has no rng")
	}
	if st.Iteration < 0 || st.Iteration > cfg.NumIters {
		return fmt.Errorf("state at iteration %d, out of range [0, NumIters=%d]", st.Iteration, cfg.NumIters)
	}
	N := d.X.Rows()
	if N == 0 || len(d.Y) != N {
		return fmt.Errorf("%d training rows and %d labels", N, len(d.Y))
	}
	if d.Val != nil && len(d.YVal) != d.Val.Rows() {
		return fmt.Errorf("%d validation rows and %d labels", d.Val.Rows(), len(d.YVal))
	}
	if d.Acc != nil && len(d.YAcc) != d.Acc.Rows() {
		return fmt.Errorf("%d accuracy rows and %d labels", d.Acc.Rows(), len(d.YAcc))
	}
	params := m.Params()
	if err := st.Init(cfg.Update, params); err != nil {
		return err
	}
	r := newRunner(m, params, d, cfg, st, obs)
	for it := st.Iteration; it < cfg.NumIters; it++ {
		if err := r.iteration(it); err != nil {
			return err
		}
		if it+1 < cfg.NumIters && ctx.Err() != nil {
			return fmt.Errorf("stopped at iteration %d: %w", it, context.Cause(ctx))
		}
	}
	return nil
}

// runner holds a Run's buffers.
type runner[T kernels.Float] struct {
	m        Model[T]
	d        Data[T]
	cfg      Config
	st       *State[T]
	params   []Param[T]
	stepper  SGDStepper // nil unless the fused sgd step applies
	obs      []Observer
	epochObs []EpochObserver
	perEpoch int
	idx, yb  []int
	pred     []int // predictions of a batch or an accuracy block
	blk      []int // row indices of an accuracy block
}

func newRunner[T kernels.Float](m Model[T], params []Param[T], d Data[T], cfg Config, st *State[T], obs []Observer) *runner[T] {
	B := cfg.BatchSize
	r := &runner[T]{m: m, d: d, cfg: cfg, st: st, params: params, obs: obs,
		perEpoch: EpochLength(d.X.Rows(), B), idx: make([]int, B), yb: make([]int, B)}
	if s, ok := m.(SGDStepper); ok && isSGD(cfg.Update) {
		r.stepper = s
	}
	for _, o := range obs {
		if e, ok := o.(EpochObserver); ok {
			r.epochObs = append(r.epochObs, e)
		}
	}
	if len(r.epochObs) > 0 {
		r.pred = make([]int, max(B, predictBlock))
		r.blk = make([]int, predictBlock)
	}
	return r
}

// iteration runs iteration it.
func (r *runner[T]) iteration(it int) error {
	st, N := r.st, r.d.X.Rows()
	// the batch: rows idx of the training data, labels yb
	for i := range r.idx {
		r.idx[i] = st.RNG.Randint(0, N)
	}
	for i, j := range r.idx {
		r.yb[i] = r.d.Y[j]
	}
	loss := r.m.Loss(r.d.X, r.idx, r.yb, r.cfg.Reg)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return &DivergedError{Iteration: it, Loss: loss}
	}
	if r.stepper != nil {
		r.stepper.SGDStep(st.LearningRate)
	} else {
		r.m.Gradients()
		for i, p := range r.params {
			st.Updates[i].Step(p.W, p.G, st.LearningRate)
		}
	}
	st.Iteration = it + 1
	if it%r.perEpoch == 0 {
		if err := r.epoch(it, loss); err != nil {
			return err
		}
	}
	for _, o := range r.obs {
		if err := o.Iteration(it, loss); err != nil {
			return fmt.Errorf("stopped at iteration %d: %w", it, err)
		}
	}
	return nil
}

// epoch runs the bookkeeping of the epoch boundary at iteration it.
func (r *runner[T]) epoch(it int, loss float64) error {
	e := Epoch{It: it, Loss: loss}
	if len(r.epochObs) > 0 {
		if r.d.Acc != nil {
			e.TrainAcc = r.accuracy(r.d.Acc, r.d.YAcc)
		} else {
			B := len(r.idx)
			r.m.Predict(r.pred[:B], r.d.X, r.idx)
			e.TrainAcc = Accuracy(r.pred[:B], r.yb)
		}
		e.ValAcc = math.NaN()
		if r.d.Val != nil && r.d.Val.Rows() > 0 {
			e.ValAcc = r.accuracy(r.d.Val, r.d.YVal)
		}
	}
	r.st.LearningRate *= r.cfg.LearningRateDecay
	e.LearningRate = r.st.LearningRate
	for _, o := range r.epochObs {
		if err := o.Epoch(e); err != nil {
			return fmt.Errorf("stopped at iteration %d: %w", it, err)
		}
	}
	return nil
}

// accuracy returns the fraction of the rows of src predicted as y,
// predictBlock rows at a time.
func (r *runner[T]) accuracy(src Source[T], y []int) float64 {
	n, correct := src.Rows(), 0
	for i0 := 0; i0 < n; i0 += predictBlock {
		k := min(predictBlock, n-i0)
		for i := range k {
			r.blk[i] = i0 + i
		}
		r.m.Predict(r.pred[:k], src, r.blk[:k])
		for i := range k {
			if r.pred[i] == y[i0+i] {
				correct++
			}
		}
	}
	return float64(correct) / float64(n)
}

// Accuracy returns the fraction of the predictions pred equal to the labels
// y (0 for no labels). pred holds at least len(y) entries.
func Accuracy(pred, y []int) float64 {
	if len(y) == 0 {
		return 0
	}
	c := 0
	for i := range y {
		if pred[i] == y[i] {
			c++
		}
	}
	return float64(c) / float64(len(y))
}
