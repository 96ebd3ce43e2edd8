//go:build openblas && cgo

// Package openblas wraps OpenBLAS's gemm, gemv, axpy and scal (through
// gonum.org/v1/netlib, cgo) for package blas's openblas backend. It is a
// separate package because a package using cgo cannot hold Go assembly.
// Build with -tags openblas and CGO_LDFLAGS="-lopenblas".
//
// Threads: OpenBLAS keeps its own thread pool. Before each call its size is
// set to runtime.GOMAXPROCS(0) (openblas_set_num_threads, only when that
// changed), so OpenBLAS uses the cores the native backend would, and
// GOMAXPROCS=1 means one OpenBLAS thread. Concurrent calls from several
// goroutines oversubscribe the cores, as they do with the native backend.
package openblas

/*
void openblas_set_num_threads(int);
*/
import "C"

import (
	"runtime"
	"sync"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

var (
	mu      sync.Mutex
	threads int
)

func syncThreads() {
	n := runtime.GOMAXPROCS(0)
	mu.Lock()
	if n != threads {
		C.openblas_set_num_threads(C.int(n))
		threads = n
	}
	mu.Unlock()
}

// Sgemm is cblas_sgemm (row-major) with OpenBLAS's thread count synced to
// GOMAXPROCS.
func Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	syncThreads()
	netlib.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is cblas_dgemm (row-major) with OpenBLAS's thread count synced to
// GOMAXPROCS.
func Dgemm(tA, tB gblas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	syncThreads()
	netlib.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Saxpy is cblas_saxpy on contiguous vectors (len(x) == len(y)).
func Saxpy(alpha float32, x, y []float32) {
	syncThreads()
	netlib.Implementation{}.Saxpy(len(x), alpha, x, 1, y, 1)
}

// Daxpy is cblas_daxpy on contiguous vectors (len(x) == len(y)).
func Daxpy(alpha float64, x, y []float64) {
	syncThreads()
	netlib.Implementation{}.Daxpy(len(x), alpha, x, 1, y, 1)
}

// Sscal is cblas_sscal on a contiguous vector.
func Sscal(alpha float32, x []float32) {
	syncThreads()
	netlib.Implementation{}.Sscal(len(x), alpha, x, 1)
}

// Dscal is cblas_dscal on a contiguous vector.
func Dscal(alpha float64, x []float64) {
	syncThreads()
	netlib.Implementation{}.Dscal(len(x), alpha, x, 1)
}

// Sgemv is cblas_sgemv (row-major, unit strides for x and y).
func Sgemv(tA gblas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	syncThreads()
	netlib.Implementation{}.Sgemv(tA, m, n, alpha, a, lda, x, 1, beta, y, 1)
}

// Dgemv is cblas_dgemv (row-major, unit strides for x and y).
func Dgemv(tA gblas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	syncThreads()
	netlib.Implementation{}.Dgemv(tA, m, n, alpha, a, lda, x, 1, beta, y, 1)
}
