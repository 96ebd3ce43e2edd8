package twolayer

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/gradcheck"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// toy builds the notebook's toy problem: net = New(4, 10, 3, std 0.1) from
// nprand.New(0), then rng.Seed(1) and X = 10·randn(5, 4), y = [0 1 2 2 1].
func toy() (*Net[float64], blas.Matrix[float64], []int, *nprand.RandomState) {
	rng := nprand.New(0)
	net := New[float64](4, 10, 3, 0.1, rng)
	rng.Seed(1)
	X := blas.NewMatrix[float64](5, 4)
	for i := range X.Data {
		X.Data[i] = 10 * rng.StandardNormal()
	}
	return net, X, []int{0, 1, 2, 2, 1}, rng
}

// Published numbers from the notebook (two_layer_net.ipynb).
func TestToyScores(t *testing.T) {
	net, X, _, _ := toy()
	correct := [][]float64{
		{-0.81233741, -1.27654624, -0.70335995},
		{-0.17129677, -1.18803311, -0.47310444},
		{-0.51590475, -1.01354314, -0.8504215},
		{-0.15419291, -0.48629638, -0.52901952},
		{-0.00618733, -0.12435261, -0.15226949},
	}
	S := net.Scores(X)
	diff := 0.0
	for i := range correct {
		for j := range correct[i] {
			diff += math.Abs(S.At(i, j) - correct[i][j])
		}
	}
	t.Logf("sum |scores - notebook| = %.3g", diff)
	if diff >= 1e-7 {
		t.Errorf("scores differ from the notebook's by %g (want < 1e-7):\n%v", diff, S)
	}
}

func TestToyLoss(t *testing.T) {
	net, X, y, _ := toy()
	for name, f := range map[string]func(blas.Matrix[float64], []int, float64) (float64, Grads[float64]){
		"Loss": net.Loss, "LossNaive": net.LossNaive, "LossVectorized": net.LossVectorized,
	} {
		loss, _ := f(X, y, 0.05)
		t.Logf("%s = %.15f", name, loss)
		if d := math.Abs(loss - 1.30378789133); d >= 1e-12 {
			t.Errorf("%s = %.15f, notebook 1.30378789133: difference %g >= 1e-12", name, loss, d)
		}
	}
}

// TestToyGradients: each gradient against gradcheck.Numerical (h = 1e-5)
// has RelError < 1e-8, as in the notebook, for both references.
func TestToyGradients(t *testing.T) {
	net, X, y, _ := toy()
	for _, name := range []string{"LossNaive", "LossVectorized", "Loss"} {
		f := net.LossVectorized
		switch name {
		case "LossNaive":
			f = net.LossNaive
		case "Loss":
			f = net.Loss // the fast path
		}
		_, g := f(X, y, 0.05)
		loss := func() float64 { l, _ := f(X, y, 0.05); return l }
		for _, p := range []struct {
			name        string
			param, grad []float64
		}{{"W1", net.W1.Data, g.W1.Data}, {"B1", net.B1, g.B1}, {"W2", net.W2.Data, g.W2.Data}, {"B2", net.B2, g.B2}} {
			num := gradcheck.Numerical(loss, p.param, 1e-5)
			e := gradcheck.RelError(num, p.grad)
			t.Logf("%s %s max relative error: %.3e", name, p.name, e)
			if e >= 1e-8 {
				t.Errorf("%s %s: RelError %g >= 1e-8", name, p.name, e)
			}
		}
	}
}

// TestToyTrain: the notebook's toy training run, whose final loss it
// printed as 0.017149607938732048.
func TestToyTrain(t *testing.T) {
	_, X, y, rng := toy()
	rng.Seed(0)
	net := New[float64](4, 10, 3, 0.1, rng)
	st, err := net.Train(X, y, X, y, TrainConfig{LearningRate: 0.1, LearningRateDecay: 0.95, Reg: 5e-6, NumIters: 100, BatchSize: 200}, rng)
	if err != nil {
		t.Fatal(err)
	}
	last := st.LossHistory[len(st.LossHistory)-1]
	t.Logf("final training loss %.17g (notebook 0.017149607938732048)", last)
	if d := math.Abs(last - 0.017149607938732); d > 1e-9 {
		t.Errorf("final loss %.17g differs from the notebook's 0.017149607938732 by %g", last, d)
	}
	if len(st.LossHistory) != 100 || len(st.TrainAccHistory) != 100 || len(st.ValAccHistory) != 100 {
		t.Errorf("history lengths %d %d %d, want 100 each (5 rows, batch 200: an epoch per iteration)",
			len(st.LossHistory), len(st.TrainAccHistory), len(st.ValAccHistory))
	}
}

// randProblem returns a net and data of the given sizes with O(1) scores.
func randProblem(seed uint32, N, D, H, C int) (*Net[float64], blas.Matrix[float64], []int) {
	rng := nprand.New(seed)
	net := New[float64](D, H, C, 1/math.Sqrt(float64(D)), rng)
	for i := range net.B1 {
		net.B1[i] = 0.1 * rng.StandardNormal()
	}
	for i := range net.B2 {
		net.B2[i] = 0.1 * rng.StandardNormal()
	}
	X := blas.NewMatrix[float64](N, D)
	for i := range X.Data {
		X.Data[i] = rng.StandardNormal()
	}
	y := make([]int, N)
	for i := range y {
		y[i] = rng.Randint(0, C)
	}
	return net, X, y
}

func frob(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

func frobDiff(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

var shapes = []struct{ N, D, H, C int }{{1, 1, 1, 1}, {1, 3, 2, 4}, {5, 4, 10, 3}, {17, 9, 7, 5}, {64, 100, 50, 10}, {200, 3073, 20, 10}}

// TestNaiveVsVectorized: the references agree to rounding: loss within
// 1e-12 relative, each gradient within 1e-9 relative (Frobenius).
func TestNaiveVsVectorized(t *testing.T) {
	for k, s := range shapes {
		for _, reg := range []float64{0, 0.25} {
			net, X, y := randProblem(uint32(k), s.N, s.D, s.H, s.C)
			ln, gn := net.LossNaive(X, y, reg)
			lv, gv := net.LossVectorized(X, y, reg)
			name := fmt.Sprintf("%dx%dx%dx%d reg=%g", s.N, s.D, s.H, s.C, reg)
			if math.Abs(ln-lv) > 1e-12*math.Abs(ln) {
				t.Errorf("%s: loss naive %.17g vectorized %.17g", name, ln, lv)
			}
			for _, p := range [][3]any{{"W1", gn.W1.Data, gv.W1.Data}, {"B1", gn.B1, gv.B1}, {"W2", gn.W2.Data, gv.W2.Data}, {"B2", gn.B2, gv.B2}} {
				a, b := p[1].([]float64), p[2].([]float64)
				if d, n := frobDiff(a, b), frob(a); d > 1e-9*n {
					t.Errorf("%s: %s gradient relative difference %g", name, p[0], d/n)
				}
			}
		}
	}
}

func to32(m blas.Matrix[float64]) blas.Matrix[float32] {
	out := blas.NewMatrix[float32](m.Rows, m.Cols)
	for i := range out.Data {
		out.Data[i] = float32(m.Data[i])
	}
	return out
}

func s32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func w64[T float32 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestFloat32: float32 instantiations agree with float64 within 1e-4
// relative (loss; gradients in Frobenius norm) on inputs rounded to
// float32 first.
func TestFloat32(t *testing.T) {
	for k, s := range shapes[2:] {
		net, X, y := randProblem(uint32(k+20), s.N, s.D, s.H, s.C)
		n32 := &Net[float32]{W1: to32(net.W1), B1: s32(net.B1), W2: to32(net.W2), B2: s32(net.B2)}
		X32 := to32(X)
		n64 := &Net[float64]{W1: blas.FromSlice(s.D, s.H, w64(n32.W1.Data)), B1: w64(n32.B1), W2: blas.FromSlice(s.H, s.C, w64(n32.W2.Data)), B2: w64(n32.B2)}
		X64 := blas.FromSlice(s.N, s.D, w64(X32.Data))
		for _, reg := range []float64{0, 0.25} {
			for _, naive := range []bool{false, true} {
				f32, f64 := n32.LossVectorized, n64.LossVectorized
				if naive {
					f32, f64 = n32.LossNaive, n64.LossNaive
				}
				l32, g32 := f32(X32, y, reg)
				l64, g64 := f64(X64, y, reg)
				name := fmt.Sprintf("%dx%dx%dx%d reg=%g naive=%v", s.N, s.D, s.H, s.C, reg, naive)
				if math.Abs(l32-l64) > 1e-4*math.Abs(l64) {
					t.Errorf("%s: loss float32 %.9g float64 %.9g", name, l32, l64)
				}
				for _, p := range []struct {
					n    string
					a, b []float64
				}{{"W1", w64(g32.W1.Data), g64.W1.Data}, {"B1", w64(g32.B1), g64.B1}, {"W2", w64(g32.W2.Data), g64.W2.Data}, {"B2", w64(g32.B2), g64.B2}} {
					if d, n := frobDiff(p.a, p.b), frob(p.b); d > 1e-4*n {
						t.Errorf("%s: %s gradient relative difference %g", name, p.n, d/n)
					}
				}
			}
		}
		if p32, p64 := n32.Predict(X32), n64.Predict(X64); fmt.Sprint(p32) != fmt.Sprint(p64) {
			// Near-ties may legitimately flip; count them.
			diff := 0
			for i := range p32 {
				if p32[i] != p64[i] {
					diff++
				}
			}
			if diff > len(p32)/100+1 {
				t.Errorf("float32 and float64 predictions differ on %d of %d rows", diff, len(p32))
			}
		}
	}
}

// TestStridedX: losses and scores read X through its stride.
func TestStridedX(t *testing.T) {
	_, Xb, y := randProblem(3, 7, 12, 5, 4)
	X := Xb.Slice(0, 7, 2, 12) // 7×10 view, stride 12
	net2 := New[float64](10, 5, 4, 0.3, nprand.New(9))
	l1, g1 := net2.LossVectorized(X, y, 0.1)
	l2, g2 := net2.LossVectorized(X.Clone(), y, 0.1)
	l3, _ := net2.LossNaive(X, y, 0.1)
	if l1 != l2 || frobDiff(g1.W1.Data, g2.W1.Data) != 0 || math.Abs(l1-l3) > 1e-12*l1 {
		t.Errorf("strided X: %v %v %v", l1, l2, l3)
	}
}

func expectPanic(t *testing.T, name, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		e := recover()
		if e == nil {
			t.Errorf("%s: no panic", name)
			return
		}
		if s := fmt.Sprint(e); !strings.Contains(s, want) {
			t.Errorf("%s: panic %q does not contain %q", name, s, want)
		}
	}()
	f()
}

func TestLossBadInput(t *testing.T) {
	net, X, y := randProblem(1, 4, 5, 3, 2)
	for _, name := range []string{"LossNaive", "LossVectorized", "Loss"} {
		f := net.LossVectorized
		switch name {
		case "LossNaive":
			f = net.LossNaive
		case "Loss":
			f = net.Loss // the fast path
		}
		p := "twolayer." + name + ": "
		expectPanic(t, name+" cols", p+"X is 4×4 but W1 is 5×3", func() { f(X.Slice(0, 4, 0, 4), y, 0) })
		expectPanic(t, name+" len(y)", p+"len(y)=3 != X.Rows=4", func() { f(X, y[:3], 0) })
		expectPanic(t, name+" stride", p+"X: stride 4 < cols 5", func() { f(blas.Matrix[float64]{Rows: 4, Cols: 5, Stride: 4, Data: X.Data}, y, 0) })
		expectPanic(t, name+" short", p+"X: len(Data)=19 too short for 4×5", func() { f(blas.Matrix[float64]{Rows: 4, Cols: 5, Stride: 5, Data: X.Data[:19]}, y, 0) })
		expectPanic(t, name+" label", p+"y[1]=2 out of range [0, 2)", func() { f(X, []int{0, 2, 1, 0}, 0) })
		expectPanic(t, name+" negative label", p+"y[3]=-1 out of range [0, 2)", func() { f(X, []int{0, 1, 1, -1}, 0) })
		expectPanic(t, name+" empty", p+"X is empty (0×5)", func() { f(X.Slice(0, 0, 0, 5), nil, 0) })
	}
	bad := *net
	bad.B1 = bad.B1[:2]
	expectPanic(t, "inconsistent net", "twolayer.LossVectorized: inconsistent net: W1 5×3, B1 2, W2 3×2, B2 2", func() { bad.LossVectorized(X, y, 0) })
	expectPanic(t, "inconsistent net (fast)", "twolayer.Loss: inconsistent net: W1 5×3, B1 2, W2 3×2, B2 2", func() { bad.Loss(X, y, 0) })
	expectPanic(t, "scores cols", "twolayer.Scores: X is 4×4 but W1 is 5×3", func() { net.Scores(X.Slice(0, 4, 0, 4)) })
	expectPanic(t, "predict cols", "twolayer.Predict: X is 4×4", func() { net.Predict(X.Slice(0, 4, 0, 4)) })
	expectPanic(t, "New sizes", "twolayer.New: sizes must be positive: inputSize=0", func() { New[float32](0, 2, 2, 1, nprand.New(0)) })
}

// TestPredictBlocks: PredictSource's 256-row blocks give the argmax of
// Scores for every row, across block boundaries.
func TestPredictBlocks(t *testing.T) {
	net, X, _ := randProblem(7, 700, 6, 8, 5)
	S := net.Scores(X)
	pred := net.Predict(X)
	for i := range pred {
		if want := kernels.ArgMax(S.Row(i)); pred[i] != want {
			t.Fatalf("row %d: predicted %d, argmax of Scores %d", i, pred[i], want)
		}
	}
	if g := kernels.ArgMax([]float64{0, 2, 2}); g != 1 {
		t.Errorf("tie: %d", g)
	}
	if g := kernels.ArgMax([]float64{0, 1, math.NaN()}); g != 2 {
		t.Errorf("NaN: %d", g)
	}
}
