package kernels_test

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

func ExampleSoftmaxCERows() {
	// Two rows of scores for three classes, labels 2 and 0. By hand:
	// (−log(e³/(e+e²+e³)) + log 3)/2 = (0.4076 + 1.0986)/2 = 0.7531.
	s := []float64{
		1, 2, 3,
		1, 1, 1,
	}
	y := []int{2, 0}
	ds := make([]float64, len(s))
	loss := kernels.SoftmaxCERows(ds, s, 2, 3, 3, y, 1.0/2)
	fmt.Printf("mean loss %.4f\n", loss/2)
	fmt.Printf("dS row 0: %.4f\n", ds[:3])
	// Output:
	// mean loss 0.7531
	// dS row 0: [0.0450 0.1224 -0.1674]
}

func ExampleSetISA() {
	x := []float32{1, 2, 3}
	restore := kernels.SetISA(kernels.Generic) // force the pure-Go loops
	fmt.Println(kernels.Dot(x, x), kernels.Dispatched("Dot"))
	restore()
	// Output: 14 generic
}

func ExampleSumSq64() {
	// The L2 term of float32 weights, summed in float64: squares that
	// overflow float32 are finite (and exact) in float64.
	w := []float32{3e20, -4e20}
	fmt.Printf("SumSq %v, SumSq64 %.4g\n", kernels.SumSq(w), kernels.SumSq64(w))
	// Output: SumSq +Inf, SumSq64 2.5e+41
}
