package twolayer_test

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/twolayer"
)

// The notebook's toy problem: a 4-10-3 network and five 4-dimensional
// points, trained for 100 iterations.
func ExampleNet() {
	rng := nprand.New(0)
	net := twolayer.New[float64](4, 10, 3, 0.1, rng) // W1 = 0.1·randn(4, 10), W2 = 0.1·randn(10, 3)
	rng.Seed(1)
	X := blas.NewMatrix[float64](5, 4)
	for i := range X.Data {
		X.Data[i] = 10 * rng.StandardNormal()
	}
	y := []int{0, 1, 2, 2, 1}

	loss, _ := net.Loss(X, y, 0.05)
	fmt.Printf("initial loss %.11f\n", loss)

	rng.Seed(0)
	net = twolayer.New[float64](4, 10, 3, 0.1, rng)
	stats, err := net.Train(X, y, X, y, twolayer.TrainConfig{
		LearningRate: 0.1, LearningRateDecay: 0.95, Reg: 5e-6, NumIters: 100, BatchSize: 200,
	}, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("final training loss %.12f\n", stats.LossHistory[len(stats.LossHistory)-1])
	fmt.Println("predictions", net.Predict(X))
	// Output:
	// initial loss 1.30378789133
	// final training loss 0.017149607939
	// predictions [0 1 2 2 1]
}
