package train_test

import (
	"context"
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/train"
	"github.com/nnkern/nnkern/twolayer"
)

// Train a small two-layer net with adam, watching the epochs.
func Example() {
	rng := nprand.New(0)
	X := blas.NewMatrix[float64](60, 4)
	y := make([]int, 60)
	for i := range y {
		y[i] = i % 3
		for k := range 4 {
			X.Set(i, k, rng.StandardNormal()+float64(k%3-y[i]))
		}
	}
	net := twolayer.New[float64](4, 10, 3, 0.1, rng)
	cfg := train.Config{LearningRate: 0.05, LearningRateDecay: 0.9, NumIters: 60, BatchSize: 20, Update: "adam"}
	st := train.NewState[float64](cfg, X.Rows, rng)
	data := train.Data[float64]{X: train.MatrixSource(X), Y: y}
	err := train.Run(context.Background(), net.TrainModel(), data, cfg, st,
		train.EpochFunc(func(e train.Epoch) error {
			if e.It%30 == 0 { // an epoch is 60/20 = 3 iterations
				fmt.Printf("iteration %d: learning rate %.4f\n", e.It, e.LearningRate)
			}
			return nil
		}))
	fmt.Println(err, st.Iteration)
	// Output:
	// iteration 0: learning rate 0.0450
	// iteration 30: learning rate 0.0157
	// <nil> 60
}
