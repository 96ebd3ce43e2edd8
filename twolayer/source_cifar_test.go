package twolayer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
)

// smallCIFAR returns a Prepared random uint8 dataset of 8×8×3 images.
func smallCIFAR(t *testing.T, bias bool) *cifar.Prepared {
	rng := rand.New(rand.NewPCG(5, 6))
	split := func(n int) cifar.Split {
		s := cifar.Split{X: make([]uint8, n*8*8*3), Y: make([]uint8, n), N: n, H: 8, W: 8, C: 3}
		for i := range s.X {
			s.X[i] = uint8(rng.IntN(256))
		}
		for i := range s.Y {
			s.Y[i] = uint8(rng.IntN(10))
		}
		return s
	}
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprint("c", i)
	}
	ds := &cifar.Dataset{Train: split(330), Test: split(40), ClassNames: names}
	p, err := cifar.Prepare(ds, cifar.PrepareConfig{NumTraining: 300, NumValidation: 30, NumTest: 40, Bias: bias})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Training straight from the uint8 storage (cifar.Source) gives exactly
// the model that training on the materialised float matrix gives, for the
// softmax classifier and the two-layer net, f32 and f64.
func TestTrainFromCIFARSource(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testTrainFromCIFARSource[float32](t) })
	t.Run("f64", func(t *testing.T) { testTrainFromCIFARSource[float64](t) })
}

func testTrainFromCIFARSource[T kernels.Float](t *testing.T) {
	// Softmax classifier (bias column).
	p := smallCIFAR(t, true)
	y := cifar.Labels(&p.Train)
	scfg := softmax.TrainConfig{LearningRate: 1e-7, Reg: 2.5e4, NumIters: 30, BatchSize: 64}
	a, b := softmax.NewSoftmax[T](), softmax.NewSoftmax[T]()
	ha, err := a.TrainSource(cifar.NewSource[T](p, &p.Train), y, scfg, nprand.New(1))
	if err != nil {
		t.Fatal(err)
	}
	hb, err := b.Train(cifar.Materialize[T](p, &p.Train), y, scfg, nprand.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ha, hb) || !slices.Equal(a.W.Data, b.W.Data) {
		t.Errorf("softmax: training from cifar.Source differs from training on the materialised matrix")
	}

	// Two-layer net (no bias column), with the validation pass.
	p = smallCIFAR(t, false)
	y, yv := cifar.Labels(&p.Train), cifar.Labels(&p.Val)
	cfg := TrainConfig{LearningRate: 1e-3, LearningRateDecay: 0.95, Reg: 0.05, NumIters: 40, BatchSize: 50}
	na, nb := New[T](p.Dim(), 20, 10, 1e-4, nprand.New(0)), New[T](p.Dim(), 20, 10, 1e-4, nprand.New(0))
	sa, err := na.TrainSource(cifar.NewSource[T](p, &p.Train), y, cifar.NewSource[T](p, &p.Val), yv, cfg, nprand.New(2))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := nb.Train(cifar.Materialize[T](p, &p.Train), y, cifar.Materialize[T](p, &p.Val), yv, cfg, nprand.New(2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sa.LossHistory, sb.LossHistory) || !slices.Equal(sa.ValAccHistory, sb.ValAccHistory) {
		t.Errorf("two-layer: histories from cifar.Source differ from the materialised matrix's")
	}
	for _, m := range []struct {
		name string
		a, b []T
	}{{"W1", na.W1.Data, nb.W1.Data}, {"b1", na.B1, nb.B1}, {"W2", na.W2.Data, nb.W2.Data}, {"b2", na.B2, nb.B2}} {
		if !slices.Equal(m.a, m.b) {
			t.Errorf("two-layer: %s from cifar.Source differs from the materialised matrix's", m.name)
		}
	}
}
