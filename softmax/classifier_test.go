package softmax

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/testenv"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// TestTrainNumPy runs the notebook's LinearClassifier.train (numpy, inlined
// reference code, np.random.seed(s)) and ours with nprand.New(s) on the same
// data, for the softmax and the SVM, and compares the whole loss history
// and the final W: the batches and initial W are identical draws, so only
// the rounding of the matrix products differs.
func TestTrainNumPy(t *testing.T) {
	_, X, y := cifarLike(8, 300, 41, 6, 0)
	for i := range X.Data {
		X.Data[i] /= 100
	}
	cfg := TrainConfig{LearningRate: 0.05, Reg: 1e-3, NumIters: 60, BatchSize: 64}
	var in bytes.Buffer
	testenv.EncMat(&in, X)
	testenv.EncInts(&in, y)
	script := numpyRef + `
d = read()
X, y = mat(d[0]), np.array([int(v) for v in d[1].split()])
for cls in (Softmax, LinearSVM):
    np.random.seed(3)
    c = cls()
    h = c.train(X, y, learning_rate=0.05, reg=1e-3, num_iters=60, batch_size=64)
    out(h, c.W, c.predict(X))
`
	lines := strings.Split(strings.TrimSpace(string(testenv.NumPy(t, script, in.Bytes()))), "\n")
	if len(lines) != 6 {
		t.Fatalf("numpy printed %d lines, want 6", len(lines))
	}
	for k, c := range []*LinearClassifier[float64]{NewSoftmax[float64](), NewLinearSVM[float64]()} {
		hist, err := c.Train(X, y, cfg, nprand.New(3))
		if err != nil {
			t.Fatal(err)
		}
		wantH, wantW, wantP := testenv.ParseFloats(t, lines[3*k]), testenv.ParseFloats(t, lines[3*k+1]), testenv.ParseFloats(t, lines[3*k+2])
		if len(hist) != len(wantH) {
			t.Fatalf("%v: %d losses, numpy %d", c.Kind, len(hist), len(wantH))
		}
		for i := range hist {
			if math.Abs(hist[i]-wantH[i]) > 1e-12*math.Abs(wantH[i]) {
				t.Errorf("%v: loss %d: go %.17g numpy %.17g", c.Kind, i, hist[i], wantH[i])
			}
		}
		if d := frobDiff(c.W.Data, wantW); d > 1e-12*frob(wantW) {
			t.Errorf("%v: final W differs from numpy's: relative %g", c.Kind, d/frob(wantW))
		}
		pred := c.Predict(X)
		for i := range pred {
			if float64(pred[i]) != wantP[i] {
				t.Errorf("%v: prediction %d: go %d numpy %v", c.Kind, i, pred[i], wantP[i])
				break
			}
		}
		t.Logf("%v: loss %.6f -> %.6f, numpy agrees to 1e-12", c.Kind, hist[0], hist[len(hist)-1])
	}
}

// TestTrainFloat32 trains the float32 instantiation on the same batches
// and checks it tracks float64 within 1e-4 relative.
func TestTrainFloat32(t *testing.T) {
	_, X, y := cifarLike(8, 300, 41, 6, 0)
	for i := range X.Data {
		X.Data[i] = float64(float32(X.Data[i] / 100))
	}
	cfg := TrainConfig{LearningRate: 0.05, Reg: 1e-3, NumIters: 40, BatchSize: 64}
	h64, err := NewSoftmax[float64]().Train(X, y, cfg, nprand.New(1))
	if err != nil {
		t.Fatal(err)
	}
	h32, err := NewSoftmax[float32]().Train(toF32(X), y, cfg, nprand.New(1))
	if err != nil {
		t.Fatal(err)
	}
	for i := range h64 {
		if math.Abs(h32[i]-h64[i]) > 1e-4*h64[i] {
			t.Errorf("iteration %d: float32 loss %.9g float64 %.9g", i, h32[i], h64[i])
		}
	}
}

// TestTrainResume: stopping with OnIteration, saving W and the rng state,
// and resuming with StartIteration reproduces the uninterrupted run.
func TestTrainResume(t *testing.T) {
	_, X, y := cifarLike(9, 100, 10, 3, 0)
	cfg := TrainConfig{LearningRate: 1e-4, Reg: 0.1, NumIters: 30, BatchSize: 16}
	full := NewLinearSVM[float64]()
	want, err := full.Train(X, y, cfg, nprand.New(4))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	c := NewLinearSVM[float64]()
	rng := nprand.New(4)
	var saved []byte
	var savedW blas.Matrix[float64]
	cfg1 := cfg
	cfg1.OnIteration = func(it int, loss float64) error {
		if it == 11 {
			saved, _ = rng.MarshalBinary()
			savedW = c.W.Clone()
			return stop
		}
		return nil
	}
	h1, err := c.Train(X, y, cfg1, rng)
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "iteration 11") || len(h1) != 12 {
		t.Fatalf("stop: err %v, %d losses", err, len(h1))
	}
	r2 := new(nprand.RandomState)
	if err := r2.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	c2 := NewLinearSVM[float64]()
	c2.W = savedW
	cfg2 := cfg
	cfg2.StartIteration = 12
	h2, err := c2.Train(X, y, cfg2, r2)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(h1, h2...); !slices.Equal(got, want) {
		t.Errorf("resumed history differs:\n%v\n%v", got, want)
	}
	if !slices.Equal(c2.W.Data, full.W.Data) {
		t.Error("resumed W differs")
	}
}

func TestTrainLog(t *testing.T) {
	_, X, y := cifarLike(9, 50, 5, 3, 0)
	var buf bytes.Buffer
	h, err := NewSoftmax[float64]().Train(X, y, TrainConfig{LearningRate: 1e-6, NumIters: 201, BatchSize: 8, Log: &buf}, nprand.New(0))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("iteration 0 / 201: loss %f\niteration 100 / 201: loss %f\niteration 200 / 201: loss %f\n", h[0], h[100], h[200])
	if buf.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestTrainBadInput(t *testing.T) {
	_, X, y := cifarLike(9, 20, 5, 3, 0)
	ok := TrainConfig{LearningRate: 1e-3, NumIters: 3, BatchSize: 4}
	cases := []struct {
		name string
		X    blas.Matrix[float64]
		y    []int
		cfg  func(c *TrainConfig)
		W    blas.Matrix[float64]
		want string
	}{
		{"NumIters", X, y, func(c *TrainConfig) { c.NumIters = -1 }, blas.Matrix[float64]{}, "NumIters=-1 is negative"},
		{"BatchSize", X, y, func(c *TrainConfig) { c.BatchSize = 0 }, blas.Matrix[float64]{}, "BatchSize=0 must be positive"},
		{"huge BatchSize", X, y, func(c *TrainConfig) { c.BatchSize = 1 << 40 }, blas.Matrix[float64]{}, "BatchSize=1099511627776 exceeds"},
		{"LearningRate", X, y, func(c *TrainConfig) { c.LearningRate = math.NaN() }, blas.Matrix[float64]{}, "LearningRate=NaN"},
		{"Reg", X, y, func(c *TrainConfig) { c.Reg = -1 }, blas.Matrix[float64]{}, "Reg=-1"},
		{"StartIteration", X, y, func(c *TrainConfig) { c.StartIteration = 4 }, blas.Matrix[float64]{}, "StartIteration=4 out of range"},
		{"resume without W", X, y, func(c *TrainConfig) { c.StartIteration = 1 }, blas.Matrix[float64]{}, "W is empty"},
		{"empty X", X.Slice(0, 0, 0, 5), nil, nil, blas.Matrix[float64]{}, "training data is empty (0×5)"},
		{"len(y)", X, y[:19], nil, blas.Matrix[float64]{}, "len(y)=19 != 20 training rows"},
		{"label", X, append([]int{-2}, y[1:]...), nil, blas.Matrix[float64]{}, "label y[0]=-2 is negative"},
		{"stride", blas.Matrix[float64]{Rows: 20, Cols: 5, Stride: 4, Data: X.Data}, y, nil, blas.Matrix[float64]{}, "X: stride 4 < cols 5"},
		{"short", blas.Matrix[float64]{Rows: 20, Cols: 5, Stride: 5, Data: X.Data[:99]}, y, nil, blas.Matrix[float64]{}, "X: len(Data)=99 too short"},
		{"W rows", X, y, nil, blas.NewMatrix[float64](4, 3), "W is 4×3 but the data has 5 columns"},
		{"W cols", X, y, nil, blas.NewMatrix[float64](5, 2), "W is 5×2 but the data has 5 columns and labels up to 2"},
	}
	for _, c := range cases {
		cfg := ok
		if c.cfg != nil {
			c.cfg(&cfg)
		}
		clf := NewSoftmax[float64]()
		clf.W = c.W
		rng := nprand.New(0)
		h, err := clf.Train(c.X, c.y, cfg, rng)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "softmax: Train: ") {
			t.Errorf("%s: err %v, want one containing %q", c.name, err, c.want)
		}
		if h != nil || rng.RandomSample() != nprand.New(0).RandomSample() {
			t.Errorf("%s: history %v or rng touched on bad input", c.name, h)
		}
	}
	if _, err := NewSoftmax[float64]().Train(X, y, ok, nil); err == nil || !strings.Contains(err.Error(), "rng is nil") {
		t.Errorf("nil rng: %v", err)
	}
}

// TestTrainDiverges: a loss that overflows stops training with an error
// naming the iteration, and the history up to it is kept.
func TestTrainDiverges(t *testing.T) {
	_, X, y := cifarLike(9, 40, 5, 3, 0)
	for _, c := range []*LinearClassifier[float64]{NewSoftmax[float64](), NewLinearSVM[float64]()} {
		h, err := c.Train(X, y, TrainConfig{LearningRate: 1e300, NumIters: 50, BatchSize: 8}, nprand.New(0))
		if !errors.Is(err, ErrDiverged) {
			t.Fatalf("%v: err %v, want ErrDiverged", c.Kind, err)
		}
		last := h[len(h)-1]
		if want := fmt.Sprintf("iteration %d: loss is %v", len(h)-1, last); !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %q does not contain %q", c.Kind, err, want)
		}
		for _, v := range h[:len(h)-1] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%v: history %v has a non-finite loss before the last", c.Kind, h)
			}
		}
		if !math.IsNaN(last) && !math.IsInf(last, 0) || len(h) < 2 {
			t.Errorf("%v: history %v", c.Kind, h)
		}
		t.Logf("%v: diverged at iteration %d: %v", c.Kind, len(h)-1, err)
	}
}

// TestPredict: PredictSource (blocks of 256 rows) agrees with a direct
// argmax of x·W per row, over block boundaries and ties.
func TestPredict(t *testing.T) {
	W, X, _ := cifarLike(10, 600, 7, 5, 1)
	c := &LinearClassifier[float64]{W: W}
	pred := c.Predict(X)
	for i := 0; i < X.Rows; i++ {
		best, bj := math.Inf(-1), -1
		for j := 0; j < W.Cols; j++ {
			s := 0.0
			for d := 0; d < W.Rows; d++ {
				s += X.At(i, d) * W.At(d, j)
			}
			if s > best {
				best, bj = s, j
			}
		}
		if pred[i] != bj {
			t.Fatalf("row %d: predicted %d, want %d", i, pred[i], bj)
		}
	}
	if p := c.Predict(X.Slice(0, 0, 0, 7)); len(p) != 0 {
		t.Errorf("empty X: %v", p)
	}
	if g := kernels.ArgMax([]float64{1, 3, 3, 2}); g != 1 {
		t.Errorf("tie: argmax = %d, want 1", g)
	}
	if g := kernels.ArgMax([]float64{1, math.NaN(), 5}); g != 1 {
		t.Errorf("NaN: argmax = %d, want 1 (np.argmax)", g)
	}
	expectPanic(t, "predict cols", "data has 6 columns but W is 7×5", func() { c.Predict(X.Slice(0, 3, 0, 6)) })
	expectPanic(t, "predict untrained", "W is empty", func() { NewSoftmax[float64]().Predict(X) })
	if s := fmt.Sprint(KindSoftmax, KindSVM, Kind(7)); s != "softmax svm Kind(7)" {
		t.Errorf("Kind strings: %s", s)
	}
}
