//go:build openblas && cgo

package blas

import "github.com/nnkern/nnkern/blas/internal/openblas"

// openblasBackend runs on OpenBLAS (see package blas/internal/openblas for
// how its threads are set).
type openblasBackend struct{}

func init() { register(openblasBackend{}) }

func (openblasBackend) name() string { return "openblas" }

func (openblasBackend) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	openblas.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (openblasBackend) dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	openblas.Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
