package twolayer

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/model"
)

// Load reads a twolayer model file (the model.npz `nnkern train` writes,
// or one model.File.Save wrote; see model.Load for the checks) and returns
// its network in T. A float32 file loads exactly into float64, a float64
// file into float32 rounded to nearest. A file of another kind is an
// error naming the file, its kind and the kind Load reads.
//
// The network scores prepared rows, as in training: an image's H·W·C
// values minus the file's mean image (no bias column). The mean is in the
// file: load it with model.Load and call FromFile to have both, and
// prepare rows with model.Preprocess (one image) or
// cifar.Prepared{Mean: f.Mean} (a dataset):
//
//	f, err := model.Load("run/model.npz")
//	net, err := twolayer.FromFile[float32](f)
//	x := blas.NewMatrix[float32](1, f.Dim())
//	err = model.Preprocess(f, x.Row(0), img) // img: H·W·C uint8 values
//	fmt.Println(f.Classes[net.Predict(x)[0]])
func Load[T kernels.Float](path string) (*Net[T], error) {
	f, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	n, err := FromFile[T](f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return n, nil
}

// FromFile returns the network of a loaded model file in T, as Load does.
// It checks the kind and the weights' shapes — W1 (f.Dim())×H, b1 H,
// W2 H×C, b2 C —; the rest of a file model.Load has checked. The weights
// are copies: the network and f do not share memory.
func FromFile[T kernels.Float](f *model.File) (*Net[T], error) {
	if f.Kind != model.TwoLayer {
		return nil, fmt.Errorf("a %q model: twolayer.Load reads %q models", f.Kind, model.TwoLayer)
	}
	get := func(name string, shape ...int) (model.Tensor, []T, error) {
		t, ok := f.Weight(name)
		if !ok {
			return t, nil, fmt.Errorf("twolayer model without weight %s", name)
		}
		if err := t.CheckShape(shape...); err != nil {
			return t, nil, err
		}
		v, err := model.Values[T](t)
		return t, v, err
	}
	w1, d1, err := get("W1", f.Dim(), -1)
	if err != nil {
		return nil, err
	}
	H := w1.Shape[1]
	w2, d2, err := get("W2", H, -1)
	if err != nil {
		return nil, err
	}
	C := w2.Shape[1]
	_, b1, err := get("b1", H)
	if err != nil {
		return nil, err
	}
	_, b2, err := get("b2", C)
	if err != nil {
		return nil, err
	}
	return &Net[T]{W1: blas.FromSlice(f.Dim(), H, d1), B1: b1, W2: blas.FromSlice(H, C, d2), B2: b2}, nil
}
