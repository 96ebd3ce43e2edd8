package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/nprand"
)

// toyModel is a linear least-squares classifier, scores x·W (D×C), loss
// mean ½‖x·W − onehot(y)‖² + reg·ΣW², written plainly: the reference the
// loop is tested with. It records what the loop asks of it.
type toyModel struct {
	W, G    blas.Matrix[float64]
	x       blas.Matrix[float64] // the last batch
	y       []int
	reg     float64
	batches [][]int // idx of every Loss
	steps   int     // SGDStep calls
	fused   bool    // implement SGDStep
}

func newToy(d, c int, fused bool) *toyModel {
	m := &toyModel{W: blas.NewMatrix[float64](d, c), G: blas.NewMatrix[float64](d, c), fused: fused}
	for i := range m.W.Data {
		m.W.Data[i] = 0.01 * float64(i%7-3)
	}
	return m
}

func (m *toyModel) Loss(src Source[float64], idx, y []int, reg float64) float64 {
	m.batches = append(m.batches, slices.Clone(idx))
	m.x = blas.NewMatrix[float64](len(idx), src.Cols())
	src.Gather(m.x, idx)
	m.y, m.reg = slices.Clone(y), reg
	loss := 0.0
	for r := range len(idx) {
		for c := 0; c < m.W.Cols; c++ {
			e := m.score(r, c) - onehot(c, y[r])
			loss += 0.5 * e * e
		}
	}
	sq := 0.0
	for _, v := range m.W.Data {
		sq += v * v
	}
	return loss/float64(len(idx)) + reg*sq
}

func onehot(c, y int) float64 {
	if c == y {
		return 1
	}
	return 0
}

func (m *toyModel) score(r, c int) float64 {
	s := 0.0
	for k, v := range m.x.Row(r) {
		s += v * m.W.At(k, c)
	}
	return s
}

func (m *toyModel) Gradients() {
	n := float64(m.x.Rows)
	for k := 0; k < m.W.Rows; k++ {
		for c := 0; c < m.W.Cols; c++ {
			g := 0.0
			for r := 0; r < m.x.Rows; r++ {
				g += (m.score(r, c) - onehot(c, m.y[r])) * m.x.At(r, k)
			}
			m.G.Set(k, c, g/n+2*m.reg*m.W.At(k, c))
		}
	}
}

func (m *toyModel) Params() []Param[float64] {
	return []Param[float64]{{Name: "W", W: m.W.Data, G: m.G.Data}}
}

func (m *toyModel) Predict(pred []int, src Source[float64], idx []int) {
	x := blas.NewMatrix[float64](len(idx), src.Cols())
	src.Gather(x, idx)
	for r := range idx {
		best := 0
		for c := 1; c < m.W.Cols; c++ {
			s, b := 0.0, 0.0
			for k, v := range x.Row(r) {
				s += v * m.W.At(k, c)
				b += v * m.W.At(k, best)
			}
			if s > b {
				best = c
			}
		}
		pred[r] = best
	}
}

// fusedToy also implements SGDStep, as Gradients then w -= lr·g.
type fusedToy struct{ *toyModel }

func (m fusedToy) SGDStep(lr float64) {
	m.steps++
	m.Gradients()
	for i := range m.W.Data {
		m.W.Data[i] -= lr * m.G.Data[i]
	}
}

func toyData(n, d, c int, seed uint32) Data[float64] {
	rng := nprand.New(seed)
	X := blas.NewMatrix[float64](n, d)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.Randint(0, c)
		for k := range d {
			X.Set(i, k, rng.StandardNormal()+onehot(k%c, y[i]))
		}
	}
	return Data[float64]{X: MatrixSource(X), Y: y}
}

// Every iteration's batch is what rng.Choice(N, B, true) draws, in turn.
func TestRunSamplesLikeChoice(t *testing.T) {
	d := toyData(37, 4, 3, 1)
	m := newToy(4, 3, false)
	cfg := Config{LearningRate: 0.1, LearningRateDecay: 1, NumIters: 9, BatchSize: 5}
	if err := Run(context.Background(), m, d, cfg, NewState[float64](cfg, 37, nprand.New(3))); err != nil {
		t.Fatal(err)
	}
	ref := nprand.New(3)
	for it, got := range m.batches {
		if want := ref.Choice(37, 5, true); !slices.Equal(got, want) {
			t.Fatalf("iteration %d: batch %v, rng.Choice gives %v", it, got, want)
		}
	}
	if len(m.batches) != 9 {
		t.Fatalf("%d batches, want 9", len(m.batches))
	}
}

// sgdRef is the reference loop: the reference's train with the decay at
// every epoch boundary, written out.
func sgdRef(d Data[float64], cfg Config, seed uint32) (W []float64, losses, lrs []float64) {
	m := newToy(4, 3, false)
	rng := nprand.New(seed)
	n := d.X.Rows()
	lr := cfg.LearningRate
	for it := range cfg.NumIters {
		idx := rng.Choice(n, cfg.BatchSize, true)
		y := make([]int, len(idx))
		for i, j := range idx {
			y[i] = d.Y[j]
		}
		losses = append(losses, m.Loss(d.X, idx, y, cfg.Reg))
		m.Gradients()
		for i := range m.W.Data {
			m.W.Data[i] -= float64(lr * m.G.Data[i])
		}
		if it%max(n/cfg.BatchSize, 1) == 0 {
			lr *= cfg.LearningRateDecay
			lrs = append(lrs, lr)
		}
	}
	return m.W.Data, losses, lrs
}

// The sgd rule through Gradients, and through a model's own SGDStep, give
// the reference loop's weights, losses and learning rates exactly.
func TestRunSGDMatchesReference(t *testing.T) {
	d := toyData(40, 4, 3, 2)
	cfg := Config{LearningRate: 0.05, LearningRateDecay: 0.9, Reg: 0.01, NumIters: 23, BatchSize: 8}
	wantW, wantLoss, wantLR := sgdRef(d, cfg, 5)
	for _, fused := range []bool{false, true} {
		t.Run(fmt.Sprintf("fused=%v", fused), func(t *testing.T) {
			toy := newToy(4, 3, fused)
			var m Model[float64] = toy
			if fused {
				m = fusedToy{toy}
			}
			var losses, lrs []float64
			obs := []Observer{
				IterationFunc(func(it int, loss float64) error { losses = append(losses, loss); return nil }),
				EpochFunc(func(e Epoch) error { lrs = append(lrs, e.LearningRate); return nil }),
			}
			st := NewState[float64](cfg, 40, nprand.New(5))
			if err := Run(context.Background(), m, d, cfg, st, obs...); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(toy.W.Data, wantW) || !slices.Equal(losses, wantLoss) || !slices.Equal(lrs, wantLR) {
				t.Fatalf("W %v\nwant %v\nlosses %v\nwant %v\nlrs %v\nwant %v", toy.W.Data, wantW, losses, wantLoss, lrs, wantLR)
			}
			if fused && toy.steps != cfg.NumIters {
				t.Errorf("SGDStep called %d times, want %d", toy.steps, cfg.NumIters)
			}
			if st.Iteration != cfg.NumIters || st.LearningRate != wantLR[len(wantLR)-1] {
				t.Errorf("state at iteration %d, lr %v; want %d, %v", st.Iteration, st.LearningRate, cfg.NumIters, wantLR[len(wantLR)-1])
			}
		})
	}
}

// Epoch boundaries: iterations that are multiples of max(N/B, 1); the
// accuracies on the batch (or on Acc) and on Val, before the Iteration.
func TestRunEpochs(t *testing.T) {
	d := toyData(30, 4, 3, 3)
	v := toyData(11, 4, 3, 4)
	d.Val, d.YVal = v.X, v.Y
	cfg := Config{LearningRate: 0.05, LearningRateDecay: 0.5, NumIters: 10, BatchSize: 7}
	for _, acc := range []bool{false, true} {
		dd := d
		if acc {
			dd.Acc, dd.YAcc = v.X, v.Y
		}
		m := newToy(4, 3, false)
		var events []string
		obs := []Observer{
			IterationFunc(func(it int, loss float64) error { events = append(events, fmt.Sprint("it ", it)); return nil }),
			EpochFunc(func(e Epoch) error {
				events = append(events, fmt.Sprint("epoch ", e.It))
				pred := make([]int, v.X.Rows())
				m.Predict(pred, v.X, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
				if want := Accuracy(pred, v.Y); e.ValAcc != want {
					t.Errorf("it %d: val acc %v, want %v", e.It, e.ValAcc, want)
				}
				var wantTr float64
				if acc {
					wantTr = Accuracy(pred, v.Y)
				} else {
					b := m.batches[len(m.batches)-1]
					p := make([]int, len(b))
					m.Predict(p, d.X, b)
					wantTr = Accuracy(p, m.y)
				}
				if e.TrainAcc != wantTr {
					t.Errorf("it %d: train acc %v, want %v", e.It, e.TrainAcc, wantTr)
				}
				return nil
			}),
		}
		if err := Run(context.Background(), m, dd, cfg, NewState[float64](cfg, 30, nprand.New(0)), obs...); err != nil {
			t.Fatal(err)
		}
		want := "epoch 0,it 0,it 1,it 2,it 3,epoch 4,it 4,it 5,it 6,it 7,epoch 8,it 8,it 9"
		if got := strings.Join(events, ","); got != want {
			t.Fatalf("events %s\nwant %s", got, want)
		}
	}
}

// Stopping anywhere (an observer's error, a cancelled context) and
// running on from the State gives the uninterrupted run, with every rule.
func TestRunResume(t *testing.T) {
	d := toyData(30, 4, 3, 6)
	for _, rule := range Rules {
		t.Run(rule, func(t *testing.T) {
			cfg := Config{LearningRate: 0.02, LearningRateDecay: 0.9, Reg: 0.01, NumIters: 17, BatchSize: 6, Update: rule}
			full := newToy(4, 3, false)
			if err := Run(context.Background(), full, d, cfg, NewState[float64](cfg, 30, nprand.New(1))); err != nil {
				t.Fatal(err)
			}
			m := newToy(4, 3, false)
			st := NewState[float64](cfg, 30, nprand.New(1))
			stop := errors.New("stop")
			err := Run(context.Background(), m, d, cfg, st, IterationFunc(func(it int, _ float64) error {
				if it == 6 {
					return stop
				}
				return nil
			}))
			if !errors.Is(err, stop) || !strings.Contains(err.Error(), "stopped at iteration 6") || st.Iteration != 7 {
				t.Fatalf("err %v, state at %d", err, st.Iteration)
			}
			ctx, cancel := context.WithCancel(context.Background())
			err = Run(ctx, m, d, cfg, st, IterationFunc(func(it int, _ float64) error {
				if it == 11 {
					cancel()
				}
				return nil
			}))
			if !errors.Is(err, context.Canceled) || st.Iteration != 12 {
				t.Fatalf("err %v, state at %d", err, st.Iteration)
			}
			if err := Run(context.Background(), m, d, cfg, st); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.W.Data, full.W.Data) {
				t.Fatalf("resumed W %v\nuninterrupted %v", m.W.Data, full.W.Data)
			}
		})
	}
}

func TestRunDiverges(t *testing.T) {
	d := toyData(30, 4, 3, 7)
	m := newToy(4, 3, false)
	cfg := Config{LearningRate: 1e3, LearningRateDecay: 1, NumIters: 200, BatchSize: 6}
	var n int
	st := NewState[float64](cfg, 30, nprand.New(0))
	err := Run(context.Background(), m, d, cfg, st, IterationFunc(func(int, float64) error { n++; return nil }))
	var de *DivergedError
	if !errors.As(err, &de) || !errors.Is(err, ErrDiverged) || de.Iteration != n || st.Iteration != n {
		t.Fatalf("err %v after %d iterations, state at %d", err, n, st.Iteration)
	}
	if !math.IsNaN(de.Loss) && !math.IsInf(de.Loss, 0) {
		t.Fatalf("diverged with loss %v", de.Loss)
	}
}

func TestConfigCheck(t *testing.T) {
	ok := Config{LearningRate: 1, LearningRateDecay: 1, NumIters: 5, BatchSize: 2}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.NumIters = -1 }, "NumIters=-1 is negative"},
		{func(c *Config) { c.BatchSize = 0 }, "BatchSize=0 must be positive"},
		{func(c *Config) { c.BatchSize = MaxBatchSize + 1 }, "exceeds"},
		{func(c *Config) { c.LearningRate = math.Inf(1) }, "LearningRate=+Inf is not finite"},
		{func(c *Config) { c.Reg = -1 }, "Reg=-1 must be finite and >= 0"},
		{func(c *Config) { c.StartIteration = 6 }, "StartIteration=6 out of range [0, NumIters=5]"},
		{func(c *Config) { c.LearningRateDecay = math.NaN() }, "LearningRateDecay=NaN must be finite and >= 0"},
		{func(c *Config) { c.Update = "adagrad" }, `Update="adagrad" is not an update rule`},
	} {
		cfg := ok
		c.edit(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", cfg, err, c.want)
		}
	}
}

// NewState replays the decay of the epochs before StartIteration.
func TestNewState(t *testing.T) {
	cfg := Config{LearningRate: 1, LearningRateDecay: 0.5, NumIters: 20, BatchSize: 10, StartIteration: 9}
	st := NewState[float32](cfg, 40, nil) // epochs of 4: boundaries 0, 4, 8
	if st.Iteration != 9 || st.LearningRate != 0.125 {
		t.Fatalf("state at %d, lr %v; want 9, 0.125", st.Iteration, st.LearningRate)
	}
}

// A State keeps its rule: running it with another is an error, and so
// are labels that do not match their rows.
func TestRunRefusesMismatches(t *testing.T) {
	d := toyData(30, 4, 3, 8)
	m := newToy(4, 3, false)
	cfg := Config{LearningRate: 0.01, LearningRateDecay: 1, NumIters: 4, BatchSize: 5, Update: "adam"}
	st := NewState[float64](cfg, 30, nprand.New(0))
	if err := Run(context.Background(), m, d, cfg, st); err != nil {
		t.Fatal(err)
	}
	cfg.NumIters, cfg.Update = 8, "momentum"
	if err := Run(context.Background(), m, d, cfg, st); err == nil || !strings.Contains(err.Error(), "update rule adam") {
		t.Errorf("adam state run as momentum: %v", err)
	}
	cfg.Update = "adam"
	bad := d
	bad.Val, bad.YVal = d.X, d.Y[:3]
	if err := Run(context.Background(), m, bad, cfg, st); err == nil || !strings.Contains(err.Error(), "30 validation rows and 3 labels") {
		t.Errorf("short validation labels: %v", err)
	}
	if st.Iteration != 4 {
		t.Errorf("a refused run moved the state to iteration %d", st.Iteration)
	}
}
