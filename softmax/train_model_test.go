package softmax

import (
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// The gradient the update rules other than sgd get (reduce in gradient
// mode, after the fused loss gathered from a Source) is exactly the dW of
// Loss / SVMLoss on the gathered batch; the loss is theirs up to the order
// ΣW² is summed in.
func TestTrainModelGradientsMatchLoss(t *testing.T) {
	for _, kind := range []Kind{KindSoftmax, KindSVM} {
		for _, sh := range []struct{ n, d, c int }{{300, 40, 10}, {70, 17, 23}} {
			name := fmt.Sprintf("%v/N=%d,D=%d,C=%d", kind, sh.n, sh.d, sh.c)
			t.Run("f64/"+name, func(t *testing.T) { testTrainModelGradients[float64](t, kind, sh.n, sh.d, sh.c) })
			t.Run("f32/"+name, func(t *testing.T) { testTrainModelGradients[float32](t, kind, sh.n, sh.d, sh.c) })
		}
	}
}

func testTrainModelGradients[T kernels.Float](t *testing.T, kind Kind, n, d, c int) {
	X, y := u8Problem[T](7, n, d, c)
	clf := &LinearClassifier[T]{Kind: kind, W: blas.NewMatrix[T](X.Cols, c)}
	rng := nprand.New(2)
	for i := range clf.W.Data {
		clf.W.Data[i] = T(0.01 * rng.StandardNormal())
	}
	m := clf.trainModel()
	for step := range 3 {
		idx := rng.Choice(n, 50, true)
		yb := make([]int, len(idx))
		Xb := blas.NewMatrix[T](len(idx), X.Cols)
		for r, i := range idx {
			yb[r] = y[i]
			copy(Xb.Row(r), X.Row(i))
		}
		loss := m.Loss(MatrixSource(X), idx, yb, 0.3)
		m.Gradients()
		wantLoss, wantDW := clf.Loss(Xb, yb, 0.3)
		if math.Abs(loss-wantLoss) > 1e-14*math.Abs(wantLoss) {
			t.Fatalf("step %d: loss %v, Loss gives %v", step, loss, wantLoss)
		}
		if g := m.Params()[0].G; !slices.Equal(g, wantDW.Data) {
			t.Fatalf("step %d: gradient differs from Loss's dW", step)
		}
		// a plain step, so that the next loss sums a W the fused update
		// did not write
		for i, g := range m.Params()[0].G {
			clf.W.Data[i] -= T(1e-3 * float64(g))
		}
	}
}

// Train with each update rule runs, lowers the loss, and is reproducible.
func TestTrainUpdateRules(t *testing.T) {
	X, y := u8Problem[float64](4, 300, 30, 5)
	for _, rule := range []string{"sgd", "momentum", "rmsprop", "adam"} {
		lr := 1e-6
		if rule == "rmsprop" || rule == "adam" {
			lr = 1e-3
		}
		cfg := TrainConfig{LearningRate: lr, Reg: 1, NumIters: 40, BatchSize: 50, Update: rule}
		a, b := NewSoftmax[float64](), NewSoftmax[float64]()
		ha, err := a.Train(X, y, cfg, nprand.New(1))
		if err != nil {
			t.Fatal(err)
		}
		hb, _ := b.Train(X, y, cfg, nprand.New(1))
		if !slices.Equal(ha, hb) || !slices.Equal(a.W.Data, b.W.Data) {
			t.Errorf("%s: two runs differ", rule)
		}
		if !(ha[len(ha)-1] < ha[0]) {
			t.Errorf("%s: loss %v -> %v", rule, ha[0], ha[len(ha)-1])
		}
	}
	if _, err := NewSoftmax[float64]().Train(X, y, TrainConfig{LearningRate: 1, NumIters: 1, BatchSize: 1, Update: "nesterov"}, nprand.New(1)); err == nil {
		t.Error("an unknown update rule trains")
	}
}

// The loop allocates nothing per iteration with any rule.
func TestTrainUpdateRulesNoAllocPerIteration(t *testing.T) {
	// The collector is off while counting: with it on, the counts move by
	// a couple of allocations with where a collection falls, whatever the
	// number of iterations.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	X, y := u8Problem[float64](3, 400, 100, 10)
	src := MatrixSource(X)
	for _, rule := range []string{"sgd", "momentum", "rmsprop", "adam"} {
		run := func(iters int) float64 {
			return testing.AllocsPerRun(3, func() {
				cfg := TrainConfig{LearningRate: 1e-7, Reg: 1, NumIters: iters, BatchSize: 200, Update: rule}
				if _, err := NewSoftmax[float64]().TrainSource(src, y, cfg, nprand.New(0)); err != nil {
					t.Fatal(err)
				}
			})
		}
		if a, b := run(10), run(60); a != b {
			t.Errorf("%s: 10 iterations allocate %v times, 60 iterations %v times: the loop allocates", rule, a, b)
		}
	}
}

// After a fused SGD step the next Loss reuses the workspace's copies of W
// (Wᵀ and, in float64 with C <= 16, the padded W) instead of making them
// again: the losses and the trained W are bit for bit those of a model
// that remakes them every step, for both dtypes, both score kernels (C =
// 10 and 23) and both losses; and a write to W through Params is seen by
// the next Loss.
func TestTrainModelReusesUpdatedCopies(t *testing.T) {
	for _, kind := range []Kind{KindSoftmax, KindSVM} {
		for _, c := range []int{10, 23} {
			name := fmt.Sprintf("%v/C=%d", kind, c)
			t.Run("f64/"+name, func(t *testing.T) { testReusesUpdatedCopies[float64](t, kind, c) })
			t.Run("f32/"+name, func(t *testing.T) { testReusesUpdatedCopies[float32](t, kind, c) })
		}
	}
}

func testReusesUpdatedCopies[T kernels.Float](t *testing.T, kind Kind, c int) {
	const n, d = 200, 37
	X, y := u8Problem[T](5, n, d, c)
	newClf := func() *LinearClassifier[T] {
		clf := &LinearClassifier[T]{Kind: kind, W: blas.NewMatrix[T](X.Cols, c)}
		rng := nprand.New(4)
		for i := range clf.W.Data {
			clf.W.Data[i] = T(0.01 * rng.StandardNormal())
		}
		return clf
	}
	clf1, clf2 := newClf(), newClf()
	m1, m2 := clf1.trainModel(), clf2.trainModel()
	rng := nprand.New(9)
	for step := range 6 {
		idx := rng.Choice(n, 64, true)
		yb := make([]int, len(idx))
		for r, i := range idx {
			yb[r] = y[i]
		}
		if step > 0 && !m1.updated {
			t.Fatalf("step %d: the model does not reuse its copies after SGDStep", step)
		}
		if step == 3 {
			// a write through Params, as an update rule makes
			for _, m := range []*linearModel[T]{m1, m2} {
				m.Params()[0].W[5] += 0.25
			}
			if m1.updated {
				t.Fatal("Params did not make the next Loss remake the copies of W")
			}
		}
		m2.updated = false
		l1 := m1.Loss(MatrixSource(X), idx, yb, 0.2)
		l2 := m2.Loss(MatrixSource(X), idx, yb, 0.2)
		if l1 != l2 {
			t.Fatalf("step %d: loss %v with reused copies, %v with fresh ones", step, l1, l2)
		}
		m1.SGDStep(0.05)
		m2.SGDStep(0.05)
		if !slices.Equal(clf1.W.Data, clf2.W.Data) {
			t.Fatalf("step %d: W differs between reused and fresh copies", step)
		}
	}
}
