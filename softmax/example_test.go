package softmax_test

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
)

// Train a softmax classifier on three well-separated 2-D clusters (plus a
// bias column) and classify the training points.
func ExampleLinearClassifier() {
	rng := nprand.New(0)
	centers := [][2]float64{{2, 0}, {-1, 2}, {-1, -2}}
	const n = 90
	X := blas.NewMatrix[float64](n, 3)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % 3
		X.Set(i, 0, centers[c][0]+0.5*rng.StandardNormal())
		X.Set(i, 1, centers[c][1]+0.5*rng.StandardNormal())
		X.Set(i, 2, 1) // bias
		y[i] = c
	}
	clf := softmax.NewSoftmax[float64]()
	hist, err := clf.Train(X, y, softmax.TrainConfig{LearningRate: 0.5, Reg: 1e-3, NumIters: 100, BatchSize: 30}, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	correct := 0
	for i, p := range clf.Predict(X) {
		if p == y[i] {
			correct++
		}
	}
	fmt.Printf("loss %.2f -> %.2f, training accuracy %d/%d\n", hist[0], hist[len(hist)-1], correct, n)
	// Output:
	// loss 1.10 -> 0.02, training accuracy 90/90
}
