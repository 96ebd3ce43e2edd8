// Package blas provides Matrix[T], a row-major float32/float64 matrix view,
// and the dense linear algebra the models need (Gemm and friends) behind a
// switchable backend: native (nnkern's own packed, cache-blocked GEMM on
// SIMD micro-kernels), gonum (pure Go) and openblas (cgo, build tag
// openblas).
//
//	a := blas.NewMatrix[float32](200, 3072)
//	b := blas.NewMatrix[float32](3072, 200)
//	c := blas.NewMatrix[float32](200, 200)
//	blas.Gemm(false, false, 1, a, b, 0, c) // c = a·b
package blas
