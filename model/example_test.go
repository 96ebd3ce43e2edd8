package model_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/model"
	"github.com/nnkern/nnkern/softmax"
)

// A model file written by Save (as `nnkern train` writes model.npz) is
// loaded, and one raw image is classified: Preprocess subtracts the mean
// image and appends the bias column, as training did.
func Example() {
	dir, err := os.MkdirTemp("", "model-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.npz")

	// A softmax classifier of 1×2 gray images into "dark" and "light":
	// W is (1·2·1+1)×2, its last row the biases.
	f := &model.File{
		Kind:       model.Softmax,
		Weights:    []model.Tensor{{Name: "W", Shape: []int{3, 2}, Data: []float32{-1, 1, -1, 1, 0, 0}}},
		Mean:       []float64{128, 128},
		ImageShape: [3]int{1, 2, 1},
		Classes:    []string{"dark", "light"},
	}
	if err := f.Save(path); err != nil {
		log.Fatal(err)
	}

	g, err := model.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	clf, err := softmax.FromFile[float32](g) // or softmax.Load[float32](path)
	if err != nil {
		log.Fatal(err)
	}
	x := blas.NewMatrix[float32](2, g.Dim())
	for i, img := range [][]uint8{{20, 40}, {250, 200}} {
		if err := model.Preprocess(g, x.Row(i), img); err != nil {
			log.Fatal(err)
		}
	}
	for _, c := range clf.Predict(x) {
		fmt.Println(g.Classes[c])
	}
	fmt.Println(g.Kind, g.Dim(), g.NumClasses(), g.Float64())
	// Output:
	// dark
	// light
	// softmax 3 2 false
}
