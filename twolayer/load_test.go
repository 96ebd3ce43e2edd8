package twolayer

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/model"
	"github.com/nnkern/nnkern/nprand"
)

// netFile is the model file of n for 2×2×3 images (D = 12).
func netFile[T kernels.Float](n *Net[T]) *model.File {
	D, H, C := n.Dims()
	return &model.File{Kind: model.TwoLayer, Mean: make([]float64, D), ImageShape: [3]int{2, 2, 3},
		Weights: []model.Tensor{
			{Name: "W1", Shape: []int{D, H}, Data: n.W1.Data},
			{Name: "b1", Shape: []int{H}, Data: n.B1},
			{Name: "W2", Shape: []int{H, C}, Data: n.W2.Data},
			{Name: "b2", Shape: []int{C}, Data: n.B2},
		}}
}

// randLoadNet is a 12-5-3 net with random weights and biases.
func randLoadNet[T kernels.Float](seed uint32) *Net[T] {
	rng := nprand.New(seed)
	n := New[T](12, 5, 3, 1, rng)
	for i := range n.B1 {
		n.B1[i] = T(rng.StandardNormal())
	}
	for i := range n.B2 {
		n.B2[i] = T(rng.StandardNormal())
	}
	return n
}

func saveTempModel(t *testing.T, f *model.File) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.npz")
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Load returns the saved net: bit for bit in the file's precision (so the
// same predictions), widened exactly into float64 or rounded to the
// nearest float32 across precisions.
func TestLoad(t *testing.T) {
	X := blas.NewMatrix[float64](30, 12)
	rng := nprand.New(4)
	for i := range X.Data {
		X.Data[i] = rng.StandardNormal()
	}
	X32 := blas.NewMatrix[float32](30, 12)
	for i, v := range X.Data {
		X32.Data[i] = float32(v)
	}
	n32, n64 := randLoadNet[float32](1), randLoadNet[float64](2)
	p32, p64 := saveTempModel(t, netFile(n32)), saveTempModel(t, netFile(n64))
	got32, err := Load[float32](p32)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got32, n32) || !reflect.DeepEqual(got32.Predict(X32), n32.Predict(X32)) {
		t.Errorf("float32 file into float32:\n got %+v\nwant %+v", got32, n32)
	}
	got64, err := Load[float64](p64)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got64, n64) || !reflect.DeepEqual(got64.Predict(X), n64.Predict(X)) {
		t.Errorf("float64 file into float64:\n got %+v\nwant %+v", got64, n64)
	}
	wide, err := Load[float64](p32)
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := Load[float32](p64)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		from     []float32
		to       []float64
		from64   []float64
		narrowed []float32
	}{
		{"W1", n32.W1.Data, wide.W1.Data, n64.W1.Data, narrow.W1.Data},
		{"b1", n32.B1, wide.B1, n64.B1, narrow.B1},
		{"W2", n32.W2.Data, wide.W2.Data, n64.W2.Data, narrow.W2.Data},
		{"b2", n32.B2, wide.B2, n64.B2, narrow.B2},
	} {
		if len(c.to) != len(c.from) || len(c.narrowed) != len(c.from64) {
			t.Fatalf("%s: %d and %d values, want %d and %d", c.name, len(c.to), len(c.narrowed), len(c.from), len(c.from64))
		}
		for i, v := range c.from {
			if c.to[i] != float64(v) {
				t.Fatalf("%s[%d] = %v widened to %v", c.name, i, v, c.to[i])
			}
		}
		for i, v := range c.from64 {
			if c.narrowed[i] != float32(v) {
				t.Fatalf("%s[%d] = %v rounded to %v, want %v", c.name, i, v, c.narrowed[i], float32(v))
			}
		}
	}
	if D, H, C := wide.Dims(); D != 12 || H != 5 || C != 3 {
		t.Errorf("widened net is %d-%d-%d", D, H, C)
	}
}

// A softmax file is an error naming the file and both kinds; FromFile
// checks every weight's shape.
func TestLoadWrongKindAndShape(t *testing.T) {
	sm := &model.File{Kind: model.Softmax, Mean: []float64{0, 0}, ImageShape: [3]int{1, 2, 1},
		Weights: []model.Tensor{{Name: "W", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}}}}
	p := saveTempModel(t, sm)
	_, err := Load[float32](p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"softmax"`) || !strings.Contains(err.Error(), `"twolayer"`) {
		t.Errorf("Load of a softmax file = %v, want an error naming it and both kinds", err)
	}
	for _, c := range []struct {
		edit func(f *model.File)
		want string
	}{
		{func(f *model.File) { f.ImageShape = [3]int{2, 2, 1} }, "weight W1 has shape [12 5], want [4 any]"},
		{func(f *model.File) { f.Weights[1].Shape = []int{4} }, "weight b1 has shape [4], want [5]"},
		{func(f *model.File) { f.Weights[2].Shape = []int{3, 5} }, "weight W2 has shape [3 5], want [5 any]"},
		{func(f *model.File) { f.Weights[3].Data = []float32{1} }, "weight b2 has 1 values for shape [3]"},
		{func(f *model.File) { f.Weights = f.Weights[:3] }, "without weight b2"},
	} {
		f := netFile(randLoadNet[float32](3))
		c.edit(f)
		if _, err := FromFile[float64](f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromFile = %v, want %q", err, c.want)
		}
	}
}
