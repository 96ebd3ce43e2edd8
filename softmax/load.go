package softmax

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/model"
)

// Load reads a softmax or svm model file (the model.npz `nnkern train`
// writes, or one model.File.Save wrote; see model.Load for the checks)
// and returns its classifier in T, with Kind set from the file. A float32
// file loads exactly into float64, a float64 file into float32 rounded to
// nearest. A file of another kind is an error naming the file, its kind
// and the kinds Load reads.
//
// The classifier scores prepared rows, as in training: an image's H·W·C
// values minus the file's mean image, then a 1 for the bias row of W. The
// mean is in the file: load it with model.Load and call FromFile to have
// both, and prepare rows with model.Preprocess (one image) or
// cifar.Prepared{Mean: f.Mean, Bias: f.Bias()} (a dataset):
//
//	f, err := model.Load("run/model.npz")
//	clf, err := softmax.FromFile[float32](f)
//	x := blas.NewMatrix[float32](1, f.Dim())
//	err = model.Preprocess(f, x.Row(0), img) // img: H·W·C uint8 values
//	fmt.Println(f.Classes[clf.Predict(x)[0]])
func Load[T kernels.Float](path string) (*LinearClassifier[T], error) {
	f, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	c, err := FromFile[T](f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return c, nil
}

// FromFile returns the classifier of a loaded model file in T, as Load
// does. It checks the kind and W's shape, (f.Dim())×C; the rest of a file
// model.Load has checked. W is a copy: the classifier and f do not share
// memory.
func FromFile[T kernels.Float](f *model.File) (*LinearClassifier[T], error) {
	var kind Kind
	switch f.Kind {
	case model.Softmax:
		kind = KindSoftmax
	case model.SVM:
		kind = KindSVM
	default:
		return nil, fmt.Errorf("a %q model: softmax.Load reads %q and %q models", f.Kind, model.Softmax, model.SVM)
	}
	t, ok := f.Weight("W")
	if !ok {
		return nil, fmt.Errorf("%s model without weight W", f.Kind)
	}
	if err := t.CheckShape(f.Dim(), -1); err != nil {
		return nil, err
	}
	w, err := model.Values[T](t)
	if err != nil {
		return nil, err
	}
	return &LinearClassifier[T]{W: blas.FromSlice(t.Shape[0], t.Shape[1], w), Kind: kind}, nil
}
