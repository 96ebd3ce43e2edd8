// Package model reads and writes nnkern model files: the model.npz that
// `nnkern train` writes, a numpy .npz archive holding a trained model's
// kind, weights, mean image, image shape and class names. Load refuses a
// damaged or hostile file with one error naming it (sizes checked before
// anything is allocated, CRC-32s verified, weights finite, shapes
// consistent); Save writes deterministic bytes atomically, and only what
// Load accepts.
//
// To predict with a loaded model, use softmax.Load or twolayer.Load (or
// softmax.FromFile and twolayer.FromFile on a loaded File), and feed the
// models rows prepared as they were in training: an image's H·W·C values
// (HWC order) minus Mean, followed by a 1 when Bias() (the linear models'
// bias column). Preprocess does that for one image; for a dataset,
// cifar.Prepared{Mean: f.Mean, Bias: f.Bias()} does it for every row, as
// `nnkern eval` does.
//
//	f, err := model.Load("run/model.npz")
//	clf, err := softmax.FromFile[float32](f)
//	x := make([]float32, f.Dim())
//	err = model.Preprocess(f, x, img) // img: H·W·C uint8 values
//	class := clf.Predict(blas.FromSlice(1, len(x), x))[0]
//	fmt.Println(f.Classes[class])
//
// The archive loads with numpy.load: "kind" is a 0-d string, "classes"
// one newline-joined string, "mean" float64, "image_shape" int64 (H, W, C),
// and the weights float32 or float64 as the model was trained.
package model

import (
	"github.com/nnkern/nnkern/internal/npz"
)

// The model kinds a file can hold.
const (
	Softmax  = "softmax"  // softmax.LinearClassifier with KindSoftmax: W
	SVM      = "svm"      // softmax.LinearClassifier with KindSVM: W
	TwoLayer = "twolayer" // twolayer.Net: W1, b1, W2, b2
)

// File is everything a model file holds.
type File struct {
	// Kind is Softmax, SVM or TwoLayer.
	Kind string
	// Weights are the model's parameters, all float32 or all float64:
	// W, (H·W·C+1)×C, for Softmax and SVM (the last row multiplies the
	// bias column); W1 (H·W·C×hidden), b1 (hidden), W2 (hidden×C) and b2
	// (C) for TwoLayer. Load returns them in that order; Save takes any.
	Weights []Tensor
	// Mean is the mean training image (H·W·C values, HWC order) that was
	// subtracted from every input in training; see Preprocess.
	Mean []float64
	// ImageShape is the input images' height, width and channels (1 or 3).
	ImageShape [3]int
	// Classes names the C classes, or is empty.
	Classes []string
}

// Tensor is a named weight array in row-major order.
type Tensor struct {
	Name string
	// Shape is (rows, cols) for a matrix, (n) for a vector.
	Shape []int
	// Data is []float32 or []float64 with the product of Shape elements.
	Data any
}

// Load reads and validates the model file at path: a regular file whose
// kind is known, whose weights are present, finite and of shapes
// consistent with each other, with ImageShape, Mean and the class names.
// The archive may be one Save wrote or one numpy.savez wrote with the same
// keys. Its sizes are held to the load budget (NNKERN_LOAD_LIMIT, see
// internal/loadlimit). Errors are one line naming the file.
func Load(path string) (*File, error) {
	m, err := npz.LoadModel(path)
	if err != nil {
		return nil, err
	}
	f := &File{Kind: m.Kind, Classes: m.Classes}
	for _, t := range m.Tensors {
		switch t.Name {
		case "mean":
			f.Mean = t.Data.([]float64)
		case "image_shape":
			for i, v := range t.Data.([]int64) {
				f.ImageShape[i] = int(v)
			}
		default:
			f.Weights = append(f.Weights, Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data})
		}
	}
	return f, nil
}

// Save writes f to path atomically (a reader or a crash sees the old file
// or the whole new one). The bytes depend only on f: the same model always
// gives the same file. f must be a model Load accepts: Save checks it with
// Load's rules before writing, and writes nothing otherwise. Errors name
// the file.
func (f *File) Save(path string) error {
	return npz.SaveModel(path, f.npz())
}

// npz returns f as the archive's tensors; the slices are shared.
func (f *File) npz() *npz.Model {
	m := &npz.Model{Kind: f.Kind, Classes: f.Classes}
	for _, t := range f.Weights {
		m.Tensors = append(m.Tensors, npz.Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data})
	}
	is := f.ImageShape
	m.Tensors = append(m.Tensors,
		npz.Tensor{Name: "mean", Shape: []int{len(f.Mean)}, Data: f.Mean},
		npz.Tensor{Name: "image_shape", Shape: []int{3}, Data: []int64{int64(is[0]), int64(is[1]), int64(is[2])}})
	return m
}

// Weight returns the weight named name, or false.
func (f *File) Weight(name string) (Tensor, bool) {
	for _, t := range f.Weights {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Float64 reports whether the weights are float64 (else float32): the
// precision the model was trained in.
func (f *File) Float64() bool {
	if len(f.Weights) == 0 {
		return false
	}
	_, ok := f.Weights[0].Data.([]float64)
	return ok
}

// Bias reports whether the model's input rows end with a constant 1: true
// for the linear classifiers (Softmax, SVM), whose W has a bias row.
func (f *File) Bias() bool { return f.Kind != TwoLayer }

// Dim returns the number of values of an input row: H·W·C, plus one when
// Bias.
func (f *File) Dim() int {
	d := f.ImageShape[0] * f.ImageShape[1] * f.ImageShape[2]
	if f.Bias() {
		d++
	}
	return d
}

// NumClasses returns the number of classes C: the columns of the last
// weight matrix (W or W2), or 0 if it is missing.
func (f *File) NumClasses() int {
	last := "W"
	if f.Kind == TwoLayer {
		last = "W2"
	}
	if t, ok := f.Weight(last); ok && len(t.Shape) == 2 {
		return t.Shape[1]
	}
	return 0
}
