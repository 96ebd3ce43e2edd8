package softmax

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

// randLoadClassifier is a classifier of kind with a random W, (D+1)×C.
func randLoadClassifier[T kernels.Float](kind Kind, D, C int, seed uint32) *LinearClassifier[T] {
	rng := nprand.New(seed)
	w := blas.NewMatrix[T](D+1, C)
	for i := range w.Data {
		w.Data[i] = T(rng.StandardNormal())
	}
	return &LinearClassifier[T]{W: w, Kind: kind}
}

// classifierFile is the model file of c for 3×2×1 images (D = 6).
func classifierFile[T kernels.Float](c *LinearClassifier[T]) *model.File {
	return &model.File{Kind: c.Kind.String(), Mean: []float64{1, 2, 3, 4, 5, 6}, ImageShape: [3]int{3, 2, 1},
		Weights: []model.Tensor{{Name: "W", Shape: []int{c.W.Rows, c.W.Cols}, Data: c.W.Data}}}
}

// saveTempModel writes f to a temporary model.npz.
func saveTempModel(t *testing.T, f *model.File) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.npz")
	if err := f.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Load returns the saved classifier: the same kind, W bit for bit in the
// file's precision (so the same predictions), W widened exactly into
// float64 or rounded to the nearest float32 across precisions.
func TestLoad(t *testing.T) {
	X := blas.NewMatrix[float64](40, 7)
	rng := nprand.New(1)
	for i := range X.Data {
		X.Data[i] = rng.StandardNormal()
	}
	X32 := blas.NewMatrix[float32](40, 7)
	for i, v := range X.Data {
		X32.Data[i] = float32(v)
	}
	for _, kind := range []Kind{KindSoftmax, KindSVM} {
		c32 := randLoadClassifier[float32](kind, 6, 4, 2)
		c64 := randLoadClassifier[float64](kind, 6, 4, 3)
		p32, p64 := saveTempModel(t, classifierFile(c32)), saveTempModel(t, classifierFile(c64))

		got32, err := Load[float32](p32)
		if err != nil {
			t.Fatal(err)
		}
		if got32.Kind != kind || !reflect.DeepEqual(got32.W, c32.W) || !reflect.DeepEqual(got32.Predict(X32), c32.Predict(X32)) {
			t.Errorf("%v: float32 file into float32: kind %v, W %v, want %v", kind, got32.Kind, got32.W, c32.W)
		}
		got64, err := Load[float64](p64)
		if err != nil {
			t.Fatal(err)
		}
		if got64.Kind != kind || !reflect.DeepEqual(got64.W, c64.W) || !reflect.DeepEqual(got64.Predict(X), c64.Predict(X)) {
			t.Errorf("%v: float64 file into float64: kind %v, W %v, want %v", kind, got64.Kind, got64.W, c64.W)
		}

		wide, err := Load[float64](p32)
		if err != nil {
			t.Fatal(err)
		}
		narrow, err := Load[float32](p64)
		if err != nil {
			t.Fatal(err)
		}
		if wide.Kind != kind || narrow.Kind != kind || wide.W.Rows != 7 || wide.W.Cols != 4 || narrow.W.Rows != 7 || narrow.W.Cols != 4 {
			t.Fatalf("%v: across precisions: %v %d×%d, %v %d×%d", kind, wide.Kind, wide.W.Rows, wide.W.Cols, narrow.Kind, narrow.W.Rows, narrow.W.Cols)
		}
		for i, v := range c32.W.Data {
			if wide.W.Data[i] != float64(v) {
				t.Fatalf("%v: W[%d] = %v widened to %v", kind, i, v, wide.W.Data[i])
			}
		}
		for i, v := range c64.W.Data {
			if narrow.W.Data[i] != float32(v) {
				t.Fatalf("%v: W[%d] = %v rounded to %v, want %v", kind, i, v, narrow.W.Data[i], float32(v))
			}
		}
	}
}

// A two-layer file is an error naming the file and both kinds; FromFile
// checks the shape of W against the image.
func TestLoadWrongKindAndShape(t *testing.T) {
	tl := &model.File{Kind: model.TwoLayer, Mean: []float64{0, 0}, ImageShape: [3]int{1, 2, 1},
		Weights: []model.Tensor{
			{Name: "W1", Shape: []int{2, 1}, Data: []float32{1, 2}},
			{Name: "b1", Shape: []int{1}, Data: []float32{0}},
			{Name: "W2", Shape: []int{1, 2}, Data: []float32{1, -1}},
			{Name: "b2", Shape: []int{2}, Data: []float32{0, 0}},
		}}
	p := saveTempModel(t, tl)
	_, err := Load[float32](p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"twolayer"`) ||
		!strings.Contains(err.Error(), `"softmax"`) || !strings.Contains(err.Error(), `"svm"`) {
		t.Errorf("Load of a twolayer file = %v, want an error naming it and the kinds", err)
	}
	f := classifierFile(randLoadClassifier[float32](KindSoftmax, 6, 3, 1))
	f.ImageShape = [3]int{1, 5, 1}
	if _, err := FromFile[float64](f); err == nil || !strings.Contains(err.Error(), "weight W has shape [7 3], want [6 any]") {
		t.Errorf("FromFile with W too tall = %v", err)
	}
	f.Weights = nil
	if _, err := FromFile[float64](f); err == nil || !strings.Contains(err.Error(), "without weight W") {
		t.Errorf("FromFile without W = %v", err)
	}
	if _, err := Load[float32](filepath.Join(t.TempDir(), "none.npz")); err == nil || !strings.Contains(err.Error(), "none.npz") {
		t.Errorf("Load of a missing file = %v", err)
	}
}
