package twolayer

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
	"github.com/nnkern/nnkern/nprand"
)

// The notebook's reference network (cs231n assignment 1,
// classifiers/neural_net.py), inlined; iterations_per_epoch uses integer
// division as the issue specifies (identical here: N/B is an integer).
const numpyNet = `
import sys, numpy as np

class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N, D = X.shape
        h = np.maximum(0, X.dot(W1) + b1)
        scores = h.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dscores = probs
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads['W2'] = h.T.dot(dscores) + 2 * reg * W2
        grads['b2'] = dscores.sum(axis=0)
        dh = dscores.dot(W2.T)
        dh[h <= 0] = 0
        grads['W1'] = X.T.dot(dh) + 2 * reg * W1
        grads['b1'] = dh.sum(axis=0)
        return loss, grads

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95,
              reg=5e-6, num_iters=100, batch_size=200, verbose=False):
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train // batch_size, 1)
        loss_history, train_acc_history, val_acc_history = [], [], []
        for it in range(num_iters):
            sample_indices = np.random.choice(np.arange(num_train), batch_size)
            X_batch = X[sample_indices]
            y_batch = y[sample_indices]
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)
            for p in ('W1', 'b1', 'W2', 'b2'):
                self.params[p] -= learning_rate * grads[p]
            if it % iterations_per_epoch == 0:
                train_acc = (self.predict(X_batch) == y_batch).mean()
                val_acc = (self.predict(X_val) == y_val).mean()
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)
                learning_rate *= learning_rate_decay
        return {'loss_history': loss_history, 'train_acc_history': train_acc_history,
                'val_acc_history': val_acc_history}

    def predict(self, X):
        return np.argmax(self.loss(X), axis=1)

` + testenv.NumPyIO

// trainProblem is a small learnable problem: labels from a random linear
// teacher on gaussian inputs.
func trainProblem(seed uint32, N, D, C int) (blas.Matrix[float64], []int) {
	rng := nprand.New(seed)
	X := blas.NewMatrix[float64](N, D)
	for i := range X.Data {
		X.Data[i] = rng.StandardNormal()
	}
	T := rng.Randn(D * C)
	y := make([]int, N)
	for i := range y {
		best := math.Inf(-1)
		for c := 0; c < C; c++ {
			s := 0.0
			for d := 0; d < D; d++ {
				s += X.At(i, d) * T[d*C+c]
			}
			if s > best {
				best, y[i] = s, c
			}
		}
	}
	return X, y
}

// TestTrainNumPy runs the notebook's TwoLayerNet.train in numpy and ours
// from the same seed on the same data, with several epochs (so the
// learning-rate decay and the accuracy bookkeeping are exercised), and
// compares every recorded number and the final parameters.
func TestTrainNumPy(t *testing.T) {
	all, ally := trainProblem(5, 300, 12, 4)
	X, y := all.Slice(0, 240, 0, 12), ally[:240]
	Xv, yv := all.Slice(240, 300, 0, 12), ally[240:]
	var in bytes.Buffer
	testenv.EncMat(&in, X)
	testenv.EncInts(&in, y)
	testenv.EncMat(&in, Xv)
	testenv.EncInts(&in, yv)
	script := numpyNet + `
d = sys.stdin.read().split('\n')
X, y = mat(d[0]), np.array([int(v) for v in d[1].split()])
Xv, yv = mat(d[2]), np.array([int(v) for v in d[3].split()])
np.random.seed(11)
net = TwoLayerNet(12, 16, 4, std=0.1)
st = net.train(X, y, Xv, yv, learning_rate=0.3, learning_rate_decay=0.9, reg=1e-3, num_iters=75, batch_size=50)
out(st['loss_history'], st['train_acc_history'], st['val_acc_history'], net.params['W1'], net.params['b1'], net.params['W2'], net.params['b2'])
`
	lines := strings.Split(strings.TrimSpace(string(testenv.NumPy(t, script, in.Bytes()))), "\n")
	if len(lines) != 7 {
		t.Fatalf("numpy printed %d lines, want 7", len(lines))
	}
	rng := nprand.New(11)
	net := New[float64](12, 16, 4, 0.1, rng)
	st, err := net.Train(X, y, Xv, yv, TrainConfig{LearningRate: 0.3, LearningRateDecay: 0.9, Reg: 1e-3, NumIters: 75, BatchSize: 50}, rng)
	if err != nil {
		t.Fatal(err)
	}
	cmp := func(name string, got, want []float64, tol float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, numpy %d", name, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%s[%d]: go %.17g numpy %.17g", name, i, got[i], want[i])
				return
			}
		}
	}
	cmp("loss", st.LossHistory, testenv.ParseFloats(t, lines[0]), 1e-12)
	cmp("train acc", st.TrainAccHistory, testenv.ParseFloats(t, lines[1]), 0)
	cmp("val acc", st.ValAccHistory, testenv.ParseFloats(t, lines[2]), 0)
	cmp("W1", net.W1.Data, testenv.ParseFloats(t, lines[3]), 1e-12)
	cmp("b1", net.B1, testenv.ParseFloats(t, lines[4]), 1e-12)
	cmp("W2", net.W2.Data, testenv.ParseFloats(t, lines[5]), 1e-12)
	cmp("b2", net.B2, testenv.ParseFloats(t, lines[6]), 1e-12)
	t.Logf("75 iterations, %d epochs: loss %.4f -> %.4f, val acc %v -> %v; numpy agrees", len(st.ValAccHistory),
		st.LossHistory[0], st.LossHistory[74], st.ValAccHistory[0], st.ValAccHistory[len(st.ValAccHistory)-1])
}

// TestTrainEpochs: epoch bookkeeping, learning-rate decay, callbacks, log.
func TestTrainEpochs(t *testing.T) {
	X, y := trainProblem(1, 100, 6, 3)
	rng := nprand.New(2)
	net := New[float64](6, 8, 3, 0.1, rng)
	var log bytes.Buffer
	var epochs []int
	var rates []float64
	iters := 0
	cfg := TrainConfig{LearningRate: 0.1, LearningRateDecay: 0.5, NumIters: 101, BatchSize: 30, Log: &log,
		OnEpoch: func(it int, tr, va, lr float64) error {
			epochs = append(epochs, it)
			rates = append(rates, lr)
			return nil
		},
		OnIteration: func(it int, loss float64) error {
			if it != iters {
				t.Errorf("OnIteration(%d), want %d", it, iters)
			}
			iters++
			return nil
		}}
	st, err := net.Train(X, y, blas.Matrix[float64]{}, nil, cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	// 100/30 = 3 iterations per epoch: boundaries 0, 3, ..., 99.
	if len(epochs) != 34 || epochs[1] != 3 || epochs[33] != 99 || iters != 101 {
		t.Errorf("epochs at %v, %d iterations", epochs, iters)
	}
	if rates[0] != 0.05 || rates[2] != 0.1*0.5*0.5*0.5 {
		t.Errorf("learning rates %v", rates[:3])
	}
	if !math.IsNaN(st.ValAccHistory[0]) || len(st.TrainAccHistory) != 34 {
		t.Errorf("no validation data: val acc %v", st.ValAccHistory[:1])
	}
	want := fmt.Sprintf("iteration 0 / 101: loss %f\niteration 100 / 101: loss %f\n", st.LossHistory[0], st.LossHistory[100])
	if log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

// TestTrainResume: stopping in OnIteration, saving the net and the rng,
// and resuming with StartIteration reproduces the uninterrupted run,
// including the decayed learning rate.
func TestTrainResume(t *testing.T) {
	X, y := trainProblem(3, 90, 5, 3)
	cfg := TrainConfig{LearningRate: 0.2, LearningRateDecay: 0.8, Reg: 1e-3, NumIters: 40, BatchSize: 20}
	rng := nprand.New(4)
	full := New[float64](5, 7, 3, 0.1, rng)
	want, err := full.Train(X, y, X, y, cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	rng = nprand.New(4)
	net := New[float64](5, 7, 3, 0.1, rng)
	var saved []byte
	var snap Net[float64]
	stop := errors.New("stop")
	cfg1 := cfg
	cfg1.OnIteration = func(it int, loss float64) error {
		if it == 13 {
			saved, _ = rng.MarshalBinary()
			snap = Net[float64]{W1: net.W1.Clone(), B1: slices.Clone(net.B1), W2: net.W2.Clone(), B2: slices.Clone(net.B2)}
			return stop
		}
		return nil
	}
	st1, err := net.Train(X, y, X, y, cfg1, rng)
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "iteration 13") || len(st1.LossHistory) != 14 {
		t.Fatalf("stop: %v, %d losses", err, len(st1.LossHistory))
	}
	r2 := new(nprand.RandomState)
	if err := r2.UnmarshalBinary(saved); err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.StartIteration = 14
	st2, err := snap.Train(X, y, X, y, cfg2, r2)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(st1.LossHistory, st2.LossHistory...); !slices.Equal(got, want.LossHistory) {
		t.Errorf("resumed loss history differs:\n%v\n%v", got, want.LossHistory)
	}
	if got := append(st1.ValAccHistory, st2.ValAccHistory...); !slices.Equal(got, want.ValAccHistory) {
		t.Errorf("resumed val acc differs: %v vs %v", got, want.ValAccHistory)
	}
	if !slices.Equal(snap.W1.Data, full.W1.Data) || !slices.Equal(snap.B2, full.B2) {
		t.Error("resumed parameters differ")
	}
}

func TestTrainBadInput(t *testing.T) {
	X, y := trainProblem(1, 20, 5, 3)
	ok := TrainConfig{LearningRate: 1e-3, LearningRateDecay: 0.95, NumIters: 3, BatchSize: 4}
	type tc struct {
		name  string
		X, Xv blas.Matrix[float64]
		y, yv []int
		cfg   func(c *TrainConfig)
		want  string
	}
	cases := []tc{
		{"NumIters", X, X, y, y, func(c *TrainConfig) { c.NumIters = -1 }, "NumIters=-1 is negative"},
		{"BatchSize", X, X, y, y, func(c *TrainConfig) { c.BatchSize = -3 }, "BatchSize=-3 must be positive"},
		{"huge BatchSize", X, X, y, y, func(c *TrainConfig) { c.BatchSize = 1 << 40 }, "BatchSize=1099511627776 exceeds"},
		{"LearningRate", X, X, y, y, func(c *TrainConfig) { c.LearningRate = math.Inf(1) }, "LearningRate=+Inf is not finite"},
		{"decay", X, X, y, y, func(c *TrainConfig) { c.LearningRateDecay = -1 }, "LearningRateDecay=-1"},
		{"Reg", X, X, y, y, func(c *TrainConfig) { c.Reg = math.NaN() }, "Reg=NaN"},
		{"StartIteration", X, X, y, y, func(c *TrainConfig) { c.StartIteration = -1 }, "StartIteration=-1 out of range"},
		{"empty X", X.Slice(0, 0, 0, 5), X, nil, y, nil, "training data is empty (0×5)"},
		{"cols", X.Slice(0, 20, 0, 4), X, y, y, nil, "training data has 4 columns but W1 is 5×6"},
		{"val cols", X, X.Slice(0, 20, 0, 4), y, y, nil, "validation data has 4 columns but W1 is 5×6"},
		{"len(y)", X, X, y[:5], y, nil, "len(y)=5 != 20 rows"},
		{"len(yval)", X, X, y, y[:5], nil, "len(yval)=5 != 20 rows"},
		{"label", X, X, append(slices.Clone(y[:19]), 3), y, nil, "label y[19]=3 out of range [0, 3)"},
		{"val label", X, X, y, append([]int{-1}, y[1:]...), nil, "label yval[0]=-1 out of range [0, 3)"},
		{"stride", blas.Matrix[float64]{Rows: 20, Cols: 5, Stride: 4, Data: X.Data}, X, y, y, nil, "X: stride 4 < cols 5"},
		{"short", blas.Matrix[float64]{Rows: 20, Cols: 5, Stride: 5, Data: X.Data[:99]}, X, y, y, nil, "X: len(Data)=99 too short"},
		{"val short", X, blas.Matrix[float64]{Rows: 20, Cols: 5, Stride: 5, Data: X.Data[:99]}, y, y, nil, "Xval: len(Data)=99 too short"},
	}
	for _, c := range cases {
		cfg := ok
		if c.cfg != nil {
			c.cfg(&cfg)
		}
		rng := nprand.New(0)
		net := New[float64](5, 6, 3, 0.1, nprand.New(1))
		before := net.W1.Clone()
		st, err := net.Train(c.X, c.y, c.Xv, c.yv, cfg, rng)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "twolayer: Train: ") {
			t.Errorf("%s: err %v, want one containing %q", c.name, err, c.want)
		}
		if st.LossHistory != nil || rng.RandomSample() != nprand.New(0).RandomSample() || !slices.Equal(before.Data, net.W1.Data) {
			t.Errorf("%s: state touched on bad input", c.name)
		}
	}
	net := New[float64](5, 6, 3, 0.1, nprand.New(1))
	if _, err := net.Train(X, y, X, y, ok, nil); err == nil || !strings.Contains(err.Error(), "rng is nil") {
		t.Errorf("nil rng: %v", err)
	}
	net.B2 = net.B2[:1]
	if _, err := net.Train(X, y, X, y, ok, nprand.New(0)); err == nil || !strings.Contains(err.Error(), "inconsistent net") {
		t.Errorf("inconsistent net: %v", err)
	}
	if _, err := new(Net[float64]).Train(X, y, X, y, ok, nprand.New(0)); err == nil || !strings.Contains(err.Error(), "empty net") {
		t.Errorf("empty net: %v", err)
	}
}

// TestTrainDiverges: a diverging loss stops training with an error naming
// the iteration; the history so far is kept and the net keeps its
// parameters from before the failing step.
func TestTrainDiverges(t *testing.T) {
	X, y := trainProblem(1, 40, 5, 3)
	rng := nprand.New(0)
	net := New[float64](5, 6, 3, 0.1, rng)
	st, err := net.Train(X, y, X, y, TrainConfig{LearningRate: 1e200, LearningRateDecay: 1, NumIters: 50, BatchSize: 8}, rng)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err %v, want ErrDiverged", err)
	}
	h := st.LossHistory
	last := h[len(h)-1]
	if want := fmt.Sprintf("iteration %d: loss is %v", len(h)-1, last); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if !math.IsNaN(last) && !math.IsInf(last, 0) {
		t.Errorf("last loss %v is finite", last)
	}
	for _, v := range h[:len(h)-1] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("non-finite loss before the last: %v", h)
		}
	}
	t.Logf("%v (after %d losses)", err, len(h))
}

// TestTrainFloat32 trains float32 and float64 nets from identical starts on
// identical batches; the losses track within 1e-4 relative.
func TestTrainFloat32(t *testing.T) {
	X, y := trainProblem(8, 200, 10, 4)
	cfg := TrainConfig{LearningRate: 0.2, LearningRateDecay: 0.95, Reg: 1e-3, NumIters: 50, BatchSize: 40}
	r64, r32 := nprand.New(5), nprand.New(5)
	n64 := New[float64](10, 12, 4, 0.1, r64)
	n32 := New[float32](10, 12, 4, 0.1, r32)
	for i := range n64.W1.Data {
		n64.W1.Data[i] = float64(n32.W1.Data[i])
	}
	for i := range n64.W2.Data {
		n64.W2.Data[i] = float64(n32.W2.Data[i])
	}
	X32 := to32(X)
	X64 := blas.FromSlice(X.Rows, X.Cols, w64(X32.Data))
	s64, err := n64.Train(X64, y, X64, y, cfg, r64)
	if err != nil {
		t.Fatal(err)
	}
	s32, err := n32.Train(X32, y, X32, y, cfg, r32)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s64.LossHistory {
		if d := math.Abs(s32.LossHistory[i] - s64.LossHistory[i]); d > 1e-4*s64.LossHistory[i] {
			t.Errorf("iteration %d: float32 loss %.9g float64 %.9g", i, s32.LossHistory[i], s64.LossHistory[i])
		}
	}
}
