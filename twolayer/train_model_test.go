package twolayer

import (
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
)

// The gradients the update rules other than sgd get (Workspace.backward
// after the loss of a batch gathered from a Source) are exactly those of
// Workspace.Loss on the gathered batch, parameter by parameter in Params'
// order, and so is the loss.
func TestTrainModelGradientsMatchLoss(t *testing.T) {
	t.Run("f64", func(t *testing.T) { testTrainModelGradients[float64](t) })
	t.Run("f32", func(t *testing.T) { testTrainModelGradients[float32](t) })
}

func testTrainModelGradients[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	X, y := randData[T](rng, 200, 30, 7)
	net := randNet[T](rng, 30, 20, 7, 0.1)
	m := net.trainModel()
	idx := nprand.New(0).Choice(200, 64, true)
	Xb := blas.NewMatrix[T](len(idx), 30)
	yb := make([]int, len(idx))
	for r, i := range idx {
		copy(Xb.Row(r), X.Row(i))
		yb[r] = y[i]
	}
	loss := m.Loss(train.MatrixSource(X), idx, yb, 0.05)
	m.Gradients()
	g := zeroGrads(net)
	want := NewWorkspace[T]().Loss(&g, net, Xb, yb, 0.05)
	if loss != want {
		t.Fatalf("loss %v, Workspace.Loss %v", loss, want)
	}
	ps := m.Params()
	for i, w := range [][]T{g.W1.Data, g.B1, g.W2.Data, g.B2} {
		if !slices.Equal(ps[i].G, w) {
			t.Errorf("gradient of %s differs from Workspace.Loss's", ps[i].Name)
		}
	}
}

// Train with each update rule runs, reproducibly, and learns the toy
// problem; an unknown rule is an error.
func TestTrainUpdateRules(t *testing.T) {
	_, X, y, _ := toy()
	for _, rule := range train.Rules {
		cfg := TrainConfig{LearningRate: 0.05, LearningRateDecay: 0.95, Reg: 5e-6, NumIters: 60, BatchSize: 5, Update: rule}
		run := func() (*Net[float64], Stats) {
			rng := nprand.New(0)
			net := New[float64](4, 10, 3, 0.1, rng)
			st, err := net.Train(X, y, X, y, cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			return net, st
		}
		a, sa := run()
		b, sb := run()
		if !slices.Equal(a.W1.Data, b.W1.Data) || !slices.Equal(sa.LossHistory, sb.LossHistory) {
			t.Errorf("%s: two runs differ", rule)
		}
		if l := sa.LossHistory; !(l[len(l)-1] < l[0]) {
			t.Errorf("%s: loss %v -> %v", rule, l[0], l[len(l)-1])
		}
	}
	rng := nprand.New(0)
	net := New[float64](4, 10, 3, 0.1, rng)
	if _, err := net.Train(X, y, X, y, TrainConfig{LearningRate: 1, NumIters: 1, BatchSize: 1, Update: "nesterov"}, rng); err == nil {
		t.Error("an unknown update rule trains")
	}
}

// The loop allocates nothing per iteration with any rule: its buffers
// (gradients, update-rule state) are made before the first.
func TestTrainUpdateRulesNoAllocPerIteration(t *testing.T) {
	// The collector is off while counting: with it on, the counts move by
	// a couple of allocations with where a collection falls, whatever the
	// number of iterations.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	rng := rand.New(rand.NewPCG(1, 1))
	X, y := randData[float32](rng, 300, 30, 10)
	src := train.MatrixSource(X)
	for _, rule := range train.Rules {
		run := func(iters int) float64 {
			return testing.AllocsPerRun(3, func() {
				net := randNet[float32](rand.New(rand.NewPCG(1, 2)), 30, 20, 10, 0.01)
				var st Stats
				st.LossHistory = make([]float64, 0, iters)
				st.TrainAccHistory = make([]float64, 0, iters)
				st.ValAccHistory = make([]float64, 0, iters)
				cfg := TrainConfig{LearningRate: 1e-3, LearningRateDecay: 0.95, Reg: 0.05, NumIters: iters, BatchSize: 50, Update: rule}
				if err := net.trainFast(src, y, src, y, cfg, cfg.LearningRate, nprand.New(0), &st); err != nil {
					t.Fatal(err)
				}
			})
		}
		if a, b := run(12), run(72); a != b {
			t.Errorf("%s: 12 iterations allocate %v times, 72 iterations %v times: the loop allocates", rule, a, b)
		}
	}
}
