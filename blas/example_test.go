package blas_test

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
)

func ExampleGemm() {
	a := blas.FromSlice(2, 3, []float64{1, 2, 3, 4, 5, 6})
	b := blas.FromSlice(3, 2, []float64{1, 0, 0, 1, 1, 1})
	c := blas.NewMatrix[float64](2, 2)
	blas.Gemm(false, false, 1, a, b, 0, c) // c = a·b
	fmt.Println(c.Row(0), c.Row(1))
	blas.Gemm(true, true, 0.5, b, a, 1, c) // c += 0.5·bᵀ·aᵀ = 0.5·(a·b)ᵀ
	fmt.Println(c.Row(0), c.Row(1))
	// Output:
	// [4 5] [10 11]
	// [6 10] [12.5 16.5]
}

func ExampleUse() {
	prev := blas.Current()
	if err := blas.Use("gonum"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(blas.Current())
	fmt.Println(blas.Use("nope") != nil)
	_ = blas.Use(prev)
	// Output:
	// gonum
	// true
}
