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

func (openblasBackend) saxpy(alpha float32, x, y []float32) { openblas.Saxpy(alpha, x, y) }
func (openblasBackend) daxpy(alpha float64, x, y []float64) { openblas.Daxpy(alpha, x, y) }
func (openblasBackend) sscal(alpha float32, x []float32)    { openblas.Sscal(alpha, x) }
func (openblasBackend) dscal(alpha float64, x []float64)    { openblas.Dscal(alpha, x) }

func (openblasBackend) sgemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	openblas.Sgemv(trans(tA), m, n, alpha, a, lda, x, beta, y)
}

func (openblasBackend) dgemv(tA bool, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	openblas.Dgemv(trans(tA), m, n, alpha, a, lda, x, beta, y)
}
