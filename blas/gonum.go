package blas

import (
	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gonumBackend runs on gonum.org/v1/gonum/blas/gonum (pure Go).
type gonumBackend struct{}

func init() { register(gonumBackend{}) }

func (gonumBackend) name() string { return "gonum" }

func trans(t bool) gblas.Transpose {
	if t {
		return gblas.Trans
	}
	return gblas.NoTrans
}

func (gonumBackend) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (gonumBackend) dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (gonumBackend) saxpy(alpha float32, x, y []float32) {
	gonum.Implementation{}.Saxpy(len(x), alpha, x, 1, y, 1)
}

func (gonumBackend) daxpy(alpha float64, x, y []float64) {
	gonum.Implementation{}.Daxpy(len(x), alpha, x, 1, y, 1)
}

func (gonumBackend) sscal(alpha float32, x []float32) {
	gonum.Implementation{}.Sscal(len(x), alpha, x, 1)
}
func (gonumBackend) dscal(alpha float64, x []float64) {
	gonum.Implementation{}.Dscal(len(x), alpha, x, 1)
}

func (gonumBackend) sgemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	gonum.Implementation{}.Sgemv(trans(tA), m, n, alpha, a, lda, x, 1, beta, y, 1)
}

func (gonumBackend) dgemv(tA bool, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	gonum.Implementation{}.Dgemv(trans(tA), m, n, alpha, a, lda, x, 1, beta, y, 1)
}
