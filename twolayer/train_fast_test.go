package twolayer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/gradcheck"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/train"
)

// The notebook's published numbers, through the fast path.
func TestFastToyNotebook(t *testing.T) {
	net, X, y, _ := toy()
	ws := NewWorkspace[float64]()
	g := zeroGrads(net)
	if l := ws.Loss(&g, net, X, y, 0.05); math.Abs(l-1.30378789133) > 1e-12 {
		t.Errorf("fast loss %.15f, notebook 1.30378789133", l)
	}
	rng := nprand.New(0)
	net = New[float64](4, 10, 3, 0.1, rng)
	var st Stats
	cfg := TrainConfig{LearningRate: 0.1, LearningRateDecay: 0.95, Reg: 5e-6, NumIters: 100, BatchSize: 200}
	if err := net.trainFast(softmax.MatrixSource(X), y, softmax.MatrixSource(X), y, cfg, cfg.LearningRate, rng, &st); err != nil {
		t.Fatal(err)
	}
	if l := st.LossHistory[len(st.LossHistory)-1]; math.Abs(l-0.017149607938732) > 1e-9 {
		t.Errorf("final training loss %.15f, notebook 0.017149607938732", l)
	}
}

func zeroGrads[T kernels.Float](n *Net[T]) Grads[T] {
	return Grads[T]{W1: blas.NewMatrix[T](n.W1.Rows, n.W1.Cols), B1: make([]T, len(n.B1)),
		W2: blas.NewMatrix[T](n.W2.Rows, n.W2.Cols), B2: make([]T, len(n.B2))}
}

// randNet returns a net with random weights and biases of the given scale.
func randNet[T kernels.Float](rng *rand.Rand, d, h, c int, std float64) *Net[T] {
	n := &Net[T]{W1: blas.NewMatrix[T](d, h), W2: blas.NewMatrix[T](h, c), B1: make([]T, h), B2: make([]T, c)}
	for _, s := range [][]T{n.W1.Data, n.W2.Data, n.B1, n.B2} {
		for i := range s {
			s[i] = T(std * rng.NormFloat64())
		}
	}
	return n
}

func randData[T kernels.Float](rng *rand.Rand, n, d, c int) (blas.Matrix[T], []int) {
	X := blas.NewMatrix[T](n, d)
	y := make([]int, n)
	for i := range X.Data {
		X.Data[i] = T(rng.NormFloat64())
	}
	for i := range y {
		y[i] = rng.IntN(c)
	}
	return X, y
}

func fastFrob[T kernels.Float](a, b []T) float64 {
	var num, den float64
	for i := range a {
		e := float64(a[i]) - float64(b[i])
		num += e * e
		den += float64(b[i]) * float64(b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

func testFastLossVsRef[T kernels.Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, sh := range []struct{ n, d, h, c int }{{1, 1, 1, 1}, {3, 5, 7, 2}, {17, 33, 10, 10}, {31, 64, 50, 17}, {200, 129, 20, 10}, {7, 3073, 13, 10}} {
		for _, reg := range []float64{0, 0.05, 100} {
			net := randNet[T](rng, sh.d, sh.h, sh.c, 0.3)
			X, y := randData[T](rng, sh.n, sh.d, sh.c)
			// the oracle runs on the float64 copy of the same values
			net64 := &Net[float64]{W1: toF64(net.W1), W2: toF64(net.W2), B1: toF64s(net.B1), B2: toF64s(net.B2)}
			wantL, wantG := net64.LossVectorized(toF64(X), y, reg)
			gotL, gotG := net.lossFast(X, y, reg)
			name := fmt.Sprintf("N=%d,D=%d,H=%d,C=%d,reg=%g", sh.n, sh.d, sh.h, sh.c, reg)
			if e := math.Abs(gotL-wantL) / math.Abs(wantL); gotL != wantL && !(e <= tol) {
				t.Errorf("%s: loss %v, reference %v (rel %g > %g)", name, gotL, wantL, e, tol)
			}
			for _, p := range []struct {
				name      string
				got, want []float64
			}{
				{"W1", toF64(gotG.W1).Data, wantG.W1.Data}, {"W2", toF64(gotG.W2).Data, wantG.W2.Data},
				{"b1", toF64s(gotG.B1), wantG.B1}, {"b2", toF64s(gotG.B2), wantG.B2},
			} {
				if e := fastFrob(p.got, p.want); !(e <= tol) {
					t.Errorf("%s: d%s rel Frobenius error %g > %g", name, p.name, e, tol)
				}
			}
		}
	}
}

func toF64[T kernels.Float](m blas.Matrix[T]) blas.Matrix[float64] {
	o := blas.NewMatrix[float64](m.Rows, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j := 0; j < m.Cols; j++ {
			o.Set(i, j, float64(m.At(i, j)))
		}
	}
	return o
}

func toF64s[T kernels.Float](s []T) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

func TestFastLossVsReference(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			t.Run("f64", func(t *testing.T) { testFastLossVsRef[float64](t, 1e-10) })
			t.Run("f32", func(t *testing.T) { testFastLossVsRef[float32](t, 1e-4) })
		})
	}
}

func TestFastLossGradcheck(t *testing.T) {
	net, X, y, _ := toy()
	for _, reg := range []float64{0, 0.05} {
		_, g := net.lossFast(X, y, reg)
		f := func() float64 { l, _ := net.lossFast(X, y, reg); return l }
		for _, p := range []struct {
			name   string
			x, ana []float64
		}{{"W1", net.W1.Data, g.W1.Data}, {"b1", net.B1, g.B1}, {"W2", net.W2.Data, g.W2.Data}, {"b2", net.B2, g.B2}} {
			num := gradcheck.Numerical(f, p.x, 1e-5)
			if e := gradcheck.RelError(num, p.ana); e > 1e-8 {
				t.Errorf("reg=%g: %s: max relative error %g > 1e-8", reg, p.name, e)
			}
		}
	}
}

// refTrainLoop is the reference TwoLayerNet.train loop on LossVectorized.
func refTrainLoop(n *Net[float64], X blas.Matrix[float64], y []int, Xv blas.Matrix[float64], yv []int, cfg TrainConfig, rng *nprand.RandomState) Stats {
	var st Stats
	B := cfg.BatchSize
	perEpoch := max(X.Rows/B, 1)
	lr := cfg.LearningRate
	Xb := blas.NewMatrix[float64](B, X.Cols)
	yb := make([]int, B)
	// Predictions from the reference forward pass (not the fast path's
	// predict, which is under test).
	predict := func(X blas.Matrix[float64]) []int {
		H := blas.NewMatrix[float64](X.Rows, n.W1.Cols)
		S := blas.NewMatrix[float64](X.Rows, n.W2.Cols)
		n.forward(H, S, X)
		p := make([]int, X.Rows)
		for i := range p {
			p[i] = kernels.ArgMax(S.Row(i))
		}
		return p
	}
	for it := 0; it < cfg.NumIters; it++ {
		for r, i := range rng.Choice(X.Rows, B, true) {
			copy(Xb.Row(r), X.Row(i))
			yb[r] = y[i]
		}
		loss, g := n.LossVectorized(Xb, yb, cfg.Reg)
		st.LossHistory = append(st.LossHistory, loss)
		for _, p := range []struct{ w, g []float64 }{{n.W1.Data, g.W1.Data}, {n.B1, g.B1}, {n.W2.Data, g.W2.Data}, {n.B2, g.B2}} {
			for i := range p.w {
				p.w[i] -= lr * p.g[i]
			}
		}
		if it%perEpoch == 0 {
			st.TrainAccHistory = append(st.TrainAccHistory, train.Accuracy(predict(Xb), yb))
			st.ValAccHistory = append(st.ValAccHistory, train.Accuracy(predict(Xv), yv))
			lr *= cfg.LearningRateDecay
		}
	}
	return st
}

func TestFastTrainMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	X, y := randData[float64](rng, 120, 40, 10)
	Xv, yv := randData[float64](rng, 37, 40, 10)
	cfg := TrainConfig{LearningRate: 1e-2, LearningRateDecay: 0.9, Reg: 0.05, NumIters: 80, BatchSize: 30}
	net := New[float64](40, 25, 10, 1e-1, nprand.New(3))
	ref := New[float64](40, 25, 10, 1e-1, nprand.New(3))
	var st Stats
	if err := net.trainFast(softmax.MatrixSource(X), y, softmax.MatrixSource(Xv), yv, cfg, cfg.LearningRate, nprand.New(9), &st); err != nil {
		t.Fatal(err)
	}
	want := refTrainLoop(ref, X, y, Xv, yv, cfg, nprand.New(9))
	if len(st.LossHistory) != len(want.LossHistory) || len(st.ValAccHistory) != len(want.ValAccHistory) {
		t.Fatalf("history lengths %d/%d, reference %d/%d", len(st.LossHistory), len(st.ValAccHistory), len(want.LossHistory), len(want.ValAccHistory))
	}
	for i, l := range st.LossHistory {
		if e := math.Abs(l-want.LossHistory[i]) / math.Abs(want.LossHistory[i]); !(e <= 1e-10) {
			t.Fatalf("iteration %d: loss %v, reference %v (rel %g)", i, l, want.LossHistory[i], e)
		}
	}
	if !slices.Equal(st.TrainAccHistory, want.TrainAccHistory) || !slices.Equal(st.ValAccHistory, want.ValAccHistory) {
		t.Fatalf("accuracies differ:\n%v %v\n%v %v", st.TrainAccHistory, st.ValAccHistory, want.TrainAccHistory, want.ValAccHistory)
	}
	for _, p := range []struct {
		name      string
		got, want []float64
	}{{"W1", net.W1.Data, ref.W1.Data}, {"b1", net.B1, ref.B1}, {"W2", net.W2.Data, ref.W2.Data}, {"b2", net.B2, ref.B2}} {
		if e := fastFrob(p.got, p.want); !(e <= 1e-10) {
			t.Errorf("%s differs from the reference: rel %g", p.name, e)
		}
	}
}

func TestFastTrainNoAllocPerIteration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	X, y := randData[float32](rng, 300, 30, 10)
	src := softmax.MatrixSource(X)
	run := func(iters int) float64 {
		return testing.AllocsPerRun(3, func() {
			net := randNet[float32](rand.New(rand.NewPCG(1, 2)), 30, 20, 10, 0.01)
			var st Stats
			st.LossHistory = make([]float64, 0, iters)
			st.TrainAccHistory = make([]float64, 0, iters)
			st.ValAccHistory = make([]float64, 0, iters)
			cfg := TrainConfig{LearningRate: 1e-3, LearningRateDecay: 0.95, Reg: 0.05, NumIters: iters, BatchSize: 50}
			if err := net.trainFast(src, y, src, y, cfg, cfg.LearningRate, nprand.New(0), &st); err != nil {
				t.Fatal(err)
			}
		})
	}
	if a, b := run(12), run(72); a != b {
		t.Fatalf("12 iterations allocate %v times, 72 iterations %v times: the loop allocates", a, b)
	}
}

// A short CIFAR-shaped run gives bit-identical nets for any GOMAXPROCS.
func TestFastTrainGOMAXPROCS(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testFastTrainGOMAXPROCS[float32](t) })
	t.Run("f64", func(t *testing.T) { testFastTrainGOMAXPROCS[float64](t) })
}

func testFastTrainGOMAXPROCS[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	X, y := randData[T](rng, 600, 3073, 10)
	var ref []byte
	for _, p := range []int{1, 2, 3, 8} {
		prev := runtime.GOMAXPROCS(p)
		net := New[T](3073, 50, 10, 1e-4, nprand.New(0))
		var st Stats
		cfg := TrainConfig{LearningRate: 1e-3, LearningRateDecay: 0.95, Reg: 0.05, NumIters: 4, BatchSize: 200}
		err := net.trainFast(softmax.MatrixSource(X), y, softmax.MatrixSource(X.Slice(0, 100, 0, 3073)), y[:100], cfg, cfg.LearningRate, nprand.New(0), &st)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for _, s := range [][]T{net.W1.Data, net.B1, net.W2.Data, net.B2} {
			b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), int(unsafe.Sizeof(s[0]))*len(s))...)
		}
		if ref == nil {
			ref = b
		} else if !slices.Equal(ref, b) {
			t.Fatalf("GOMAXPROCS=%d: net bytes differ from GOMAXPROCS=1", p)
		}
	}
}

func TestFastTrainDivergence(t *testing.T) {
	net, X, y, _ := toy()
	var st Stats
	cfg := TrainConfig{LearningRate: 1e9, LearningRateDecay: 1, Reg: 1, NumIters: 100, BatchSize: 5}
	err := net.trainFast(softmax.MatrixSource(X), y, softmax.MatrixSource(X), y, cfg, cfg.LearningRate, nprand.New(0), &st)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v, want ErrDiverged", err)
	}
	it := len(st.LossHistory) - 1
	if !strings.Contains(err.Error(), fmt.Sprintf("iteration %d", it)) {
		t.Fatalf("error %q does not name iteration %d", err, it)
	}
}

func TestWorkspaceLossNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	net := randNet[float64](rng, 50, 20, 10, 0.1)
	X, y := randData[float64](rng, 64, 50, 10)
	ws := NewWorkspace[float64]()
	g := zeroGrads(net)
	ws.Loss(&g, net, X, y, 0.1)
	if a := testing.AllocsPerRun(20, func() { ws.Loss(&g, net, X, y, 0.1) }); a != 0 {
		t.Fatalf("Workspace.Loss allocates %v times per call", a)
	}
}

func TestWorkspaceLossPanics(t *testing.T) {
	net, X, y, _ := toy()
	ws := NewWorkspace[float64]()
	g := zeroGrads(net)
	bad := zeroGrads(net)
	bad.B1 = bad.B1[:3]
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"label", func() { ws.Loss(&g, net, X, []int{0, 1, 2, 3, 0}, 0) }},
		{"len(y)", func() { ws.Loss(&g, net, X, y[:4], 0) }},
		{"X.Cols", func() { ws.Loss(&g, net, blas.NewMatrix[float64](5, 3), y, 0) }},
		{"grads", func() { ws.Loss(&bad, net, X, y, 0) }},
		{"empty X", func() { ws.Loss(&g, net, blas.NewMatrix[float64](0, 4), nil, 0) }},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Errorf("%s: no panic", tc.name)
				} else if s := fmt.Sprint(r); !strings.HasPrefix(s, "twolayer.") {
					t.Errorf("%s: panic %q does not name the function", tc.name, s)
				}
			}()
			tc.f()
		}()
	}
}
