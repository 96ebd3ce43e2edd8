package train_test

import (
	"fmt"

	"github.com/nnkern/nnkern/train"
)

// Three adam steps on a parameter of four elements: the gradient of
// ½·Σ(w − target)², so each step moves w towards target. adam's first
// steps move every element by about lr whatever its gradient's size; the
// element whose gradient is zero stays put.
func ExampleNewUpdate() {
	target := []float32{1, -2, 0.5, 0}
	w := []float32{0, 0, 0, 0}
	g := make([]float32, len(w))
	u, err := train.NewUpdate[float32]("adam", len(w))
	if err != nil {
		panic(err)
	}
	for range 3 {
		for i := range w {
			g[i] = w[i] - target[i]
		}
		u.Step(w, g, 0.1)
		fmt.Println(u.Steps(), w)
	}
	for _, b := range u.Buffers() {
		fmt.Println(b.Name, b.Data)
	}
	// Output:
	// 1 [0.1 -0.1 0.1 0]
	// 2 [0.19958776 -0.19983351 0.19881259 0]
	// 3 [0.2984137 -0.2993766 0.29512876 0]
	// m [-0.2420412 0.51301664 -0.10661874 0]
	// v [0.0024478508 0.010838994 0.00050005416 0]
}
