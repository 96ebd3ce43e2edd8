//go:build openblas && cgo

// Package openblas wraps OpenBLAS's sgemm/dgemm (through
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
