package twolayer

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/nprand"
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

var workspacePools [2]sync.Pool // *Workspace[float32], *Workspace[float64]

// lossFast is Workspace.Loss with a pooled workspace and freshly
// allocated gradients: the fast path behind Net.Loss.
func (n *Net[T]) lossFast(X blas.Matrix[T], y []int, reg float64) (float64, Grads[T]) {
	n.checkXy("Loss", X, y) // panics name Net.Loss, not the workspace
	var z T
	pool := &workspacePools[unsafe.Sizeof(z)/8]
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

// predictBlockRows is the number of rows the fast trainer's validation
// pass scores at a time (memory bounded by the block, not by the split).
const predictBlockRows = 250

// trainFast runs iterations cfg.StartIteration..cfg.NumIters-1 of the
// reference TwoLayerNet.train on the fast path, starting at learning rate
// lr and appending to st. The arguments have been validated (labels in
// [0, C), shapes chained; val may be nil or empty, then the validation
// accuracy is NaN).
//
// Per iteration: the batch indices are drawn with rng.Randint(0, N) into a
// reused slice (what rng.Choice(N, B, true) draws), the batch is gathered
// from src into a reused matrix, the forward pass and the fused softmax-CE
// give the loss, and the backward pass runs fused with the SGD step. At
// every iteration it with it % iterationsPerEpoch == 0 (after the step),
// the accuracy on the batch and on val is recorded and lr is multiplied by
// cfg.LearningRateDecay. Nothing is allocated per iteration.
func (n *Net[T]) trainFast(src Source[T], y []int, val Source[T], yval []int, cfg TrainConfig, lr float64, rng *nprand.RandomState, st *Stats) error {
	N, D := src.Rows(), src.Cols()
	B := cfg.BatchSize
	perEpoch := max(N/B, 1)
	ws := NewWorkspace[T]()
	Xb := blas.NewMatrix[T](B, D)
	yb := make([]int, B)
	idx := make([]int, max(B, predictBlockRows))
	pred := make([]int, max(B, predictBlockRows))
	nval := 0
	if val != nil {
		nval = val.Rows()
	}
	Xv := blas.NewMatrix[T](min(predictBlockRows, nval), D)
	for it := cfg.StartIteration; it < cfg.NumIters; it++ {
		// Xb = rows idx of the training data: (B, D)
		for r := range B {
			idx[r] = rng.Randint(0, N)
		}
		src.Gather(Xb, idx[:B])
		for r, i := range idx[:B] {
			yb[r] = y[i]
		}
		loss := ws.lossForward(Xb, yb, n.W1, n.B1, n.W2, n.B2, cfg.Reg)
		st.LossHistory = append(st.LossHistory, loss)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("twolayer: Train: iteration %d: loss is %v: %w", it, loss, ErrDiverged)
		}
		ws.sgdStep(Xb, n.W1, n.B1, n.W2, n.B2, cfg.Reg, lr)
		if cfg.Log != nil && it%100 == 0 {
			fmt.Fprintf(cfg.Log, "iteration %d / %d: loss %f\n", it, cfg.NumIters, loss)
		}
		if it%perEpoch == 0 {
			ws.predict(pred[:B], Xb, n.W1, n.B1, n.W2, n.B2)
			trainAcc := accuracy(pred[:B], yb)
			valAcc := math.NaN()
			if nval > 0 {
				valAcc = ws.accuracySource(val, yval, Xv, idx, pred, n)
			}
			st.TrainAccHistory = append(st.TrainAccHistory, trainAcc)
			st.ValAccHistory = append(st.ValAccHistory, valAcc)
			lr *= cfg.LearningRateDecay
			if cfg.OnEpoch != nil {
				if err := cfg.OnEpoch(it, trainAcc, valAcc, lr); err != nil {
					return fmt.Errorf("twolayer: Train: stopped at iteration %d: %w", it, err)
				}
			}
		}
		if cfg.OnIteration != nil {
			if err := cfg.OnIteration(it, loss); err != nil {
				return fmt.Errorf("twolayer: Train: stopped at iteration %d: %w", it, err)
			}
		}
	}
	return nil
}

// accuracySource returns the fraction of rows of src the net classifies as
// y, scoring Xv.Rows rows at a time with the reused buffers idx and pred.
func (ws *Workspace[T]) accuracySource(src Source[T], y []int, Xv blas.Matrix[T], idx, pred []int, n *Net[T]) float64 {
	N, D := src.Rows(), src.Cols()
	correct := 0
	for i0 := 0; i0 < N; i0 += Xv.Rows {
		m := min(Xv.Rows, N-i0)
		for r := range m {
			idx[r] = i0 + r
		}
		xb := Xv.Slice(0, m, 0, D)
		src.Gather(xb, idx[:m])
		ws.predict(pred[:m], xb, n.W1, n.B1, n.W2, n.B2)
		for r := range m {
			if pred[r] == y[i0+r] {
				correct++
			}
		}
	}
	return float64(correct) / float64(N)
}
