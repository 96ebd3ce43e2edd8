package twolayer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
)

// Loss computes the net's loss on (X, y) with regularisation reg, like
// Net.LossVectorized, and writes the gradients into g, whose matrices and
// slices must have the parameters' shapes (they are overwritten). It
// allocates nothing once the workspace has seen a batch this large. It
// panics on mismatched shapes or labels outside [0, C).
func (ws *Workspace[T]) Loss(g *Grads[T], net *Net[T], X blas.Matrix[T], y []int, reg float64) float64 {
	net.checkXy("Workspace.Loss", X, y)
	if g.W1.Rows != net.W1.Rows || g.W1.Cols != net.W1.Cols || g.W2.Rows != net.W2.Rows || g.W2.Cols != net.W2.Cols ||
		len(g.B1) != len(net.B1) || len(g.B2) != len(net.B2) || g.W1.Check() != nil || g.W2.Check() != nil {
		panic(fmt.Sprintf("twolayer.Workspace.Loss: gradient shapes W1 %d×%d, b1 %d, W2 %d×%d, b2 %d do not match the net's W1 %d×%d, W2 %d×%d",
			g.W1.Rows, g.W1.Cols, len(g.B1), g.W2.Rows, g.W2.Cols, len(g.B2), net.W1.Rows, net.W1.Cols, net.W2.Rows, net.W2.Cols))
	}
	loss := ws.lossForward(X, y, net.W1, net.B1, net.W2, net.B2, reg)
	ws.backward(X, net.W1, net.W2, reg, g.W1, g.B1, g.W2, g.B2)
	return loss
}

var workspacePools dtype.PerType[sync.Pool] // *Workspace[T] for each T

// lossFast is Workspace.Loss with a pooled workspace and freshly
// allocated gradients: the fast path behind Net.Loss.
func (n *Net[T]) lossFast(X blas.Matrix[T], y []int, reg float64) (float64, Grads[T]) {
	n.checkXy("Loss", X, y) // panics name Net.Loss, not the workspace
	pool := dtype.Of[T](&workspacePools)
	ws, ok := pool.Get().(*Workspace[T])
	if !ok {
		ws = NewWorkspace[T]()
	}
	g := Grads[T]{
		W1: blas.NewMatrix[T](n.W1.Rows, n.W1.Cols), B1: make([]T, len(n.B1)),
		W2: blas.NewMatrix[T](n.W2.Rows, n.W2.Cols), B2: make([]T, len(n.B2)),
	}
	loss := ws.Loss(&g, n, X, y, reg)
	pool.Put(ws)
	return loss, g
}

// trainFast runs iterations cfg.StartIteration..cfg.NumIters-1 of the
// reference TwoLayerNet.train, train.Run on the net's TrainModel starting
// at learning rate lr, appending to st. The arguments have been validated
// (labels in [0, C), shapes chained; val may be nil or empty, then the
// validation accuracy is NaN).
func (n *Net[T]) trainFast(src Source[T], y []int, val Source[T], yval []int, cfg TrainConfig, lr float64, rng *nprand.RandomState, st *Stats) error {
	tc := cfg.config()
	state := &train.State[T]{Iteration: cfg.StartIteration, LearningRate: lr, RNG: rng}
	err := train.Run(context.Background(), n.trainModel(), train.Data[T]{X: src, Y: y, Val: val, YVal: yval}, tc, state, &recorder{st: st, cfg: &cfg, it: -1})
	if de := (*train.DivergedError)(nil); errors.As(err, &de) {
		st.LossHistory = append(st.LossHistory, de.Loss)
	}
	if err != nil {
		return fmt.Errorf("twolayer: Train: %w", err)
	}
	return nil
}

// recorder fills Stats and calls TrainConfig's Log, OnEpoch and
// OnIteration in the order they have always come: the loss and the log
// line of an iteration, then its epoch, then OnIteration.
type recorder struct {
	st  *Stats
	cfg *TrainConfig
	it  int // the iteration whose loss is recorded
}

func (r *recorder) loss(it int, loss float64) {
	if r.it == it {
		return
	}
	r.it = it
	r.st.LossHistory = append(r.st.LossHistory, loss)
	if r.cfg.Log != nil && it%100 == 0 {
		fmt.Fprintf(r.cfg.Log, "iteration %d / %d: loss %f\n", it, r.cfg.NumIters, loss)
	}
}

func (r *recorder) Epoch(e train.Epoch) error {
	r.loss(e.It, e.Loss)
	r.st.TrainAccHistory = append(r.st.TrainAccHistory, e.TrainAcc)
	r.st.ValAccHistory = append(r.st.ValAccHistory, e.ValAcc)
	if r.cfg.OnEpoch != nil {
		return r.cfg.OnEpoch(e.It, e.TrainAcc, e.ValAcc, e.LearningRate)
	}
	return nil
}

func (r *recorder) Iteration(it int, loss float64) error {
	r.loss(it, loss)
	if r.cfg.OnIteration != nil {
		return r.cfg.OnIteration(it, loss)
	}
	return nil
}

// netModel is a Net as train.Run trains it, on the fast path: the batch
// is gathered from src into a reused matrix, the forward pass and the
// fused softmax-CE give the loss, and for sgd the backward pass runs fused
// with the step (Workspace.sgdStep), so the weight gradients are never
// stored; other rules get them from Workspace.backward. Nothing is
// allocated per iteration.
type netModel[T kernels.Float] struct {
	n   *Net[T]
	ws  *Workspace[T]
	g   Grads[T]
	xb  blas.Matrix[T] // the batch of the last Loss
	reg float64        // of the last Loss
	xp  blas.Matrix[T] // Predict's rows, grown to the largest block seen
}

// TrainModel returns n as train.Run trains it (the fast path on a
// workspace of its own). It panics if the net is inconsistent. Use it
// for one run at a time; Train and TrainSource use it.
func (n *Net[T]) TrainModel() train.Model[T] { return n.trainModel() }

func (n *Net[T]) trainModel() *netModel[T] {
	n.check("TrainModel")
	// The weight gradients have the weights' layout, so that Param's W
	// and G line up element for element.
	like := func(w blas.Matrix[T]) blas.Matrix[T] {
		return blas.Matrix[T]{Rows: w.Rows, Cols: w.Cols, Stride: w.Stride, Data: make([]T, len(matData(w)))}
	}
	g := Grads[T]{W1: like(n.W1), B1: make([]T, len(n.B1)), W2: like(n.W2), B2: make([]T, len(n.B2))}
	return &netModel[T]{n: n, ws: NewWorkspace[T](), g: g}
}

func (m *netModel[T]) Loss(src Source[T], idx, y []int, reg float64) float64 {
	n := m.n
	if m.xb.Rows != len(idx) {
		m.xb = blas.NewMatrix[T](len(idx), n.W1.Rows)
	}
	// Xb = rows idx of the training data: (B, D)
	src.Gather(m.xb, idx)
	m.reg = reg
	return m.ws.lossForward(m.xb, y, n.W1, n.B1, n.W2, n.B2, reg)
}

func (m *netModel[T]) SGDStep(lr float64) {
	n := m.n
	m.ws.sgdStep(m.xb, n.W1, n.B1, n.W2, n.B2, m.reg, lr)
}

func (m *netModel[T]) Gradients() {
	n, g := m.n, &m.g
	m.ws.backward(m.xb, n.W1, n.W2, m.reg, g.W1, g.B1, g.W2, g.B2)
}

func (m *netModel[T]) Params() []train.Param[T] {
	n, g := m.n, &m.g
	return []train.Param[T]{
		{Name: "W1", W: matData(n.W1), G: g.W1.Data}, {Name: "b1", W: n.B1, G: g.B1},
		{Name: "W2", W: matData(n.W2), G: g.W2.Data}, {Name: "b2", W: n.B2, G: g.B2},
	}
}

// matData returns the storage of m's elements, with the padding between
// rows when m.Stride > m.Cols.
func matData[T kernels.Float](m blas.Matrix[T]) []T {
	return m.Data[:(m.Rows-1)*m.Stride+m.Cols]
}

func (m *netModel[T]) Predict(pred []int, src Source[T], idx []int) {
	n := m.n
	k := len(idx)
	if m.xp.Rows < k {
		m.xp = blas.NewMatrix[T](k, n.W1.Rows)
	}
	xp := m.xp.Slice(0, k, 0, n.W1.Rows)
	src.Gather(xp, idx)
	m.ws.predict(pred[:k], xp, n.W1, n.B1, n.W2, n.B2)
}
