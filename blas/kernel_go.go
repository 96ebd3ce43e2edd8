package blas

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// float is the element type constraint of this package.
type float = kernels.Float

// mr is the number of rows of C a micro-kernel updates.
const mr = 6

// nrOf returns the number of columns of C a micro-kernel updates for T:
// two 256-bit vectors, 16 float32 or 8 float64.
func nrOf[T float]() int {
	var z T
	switch any(z).(type) {
	case float32:
		return 16
	}
	return 8
}

// kernelFunc is a micro-kernel: for each of tiles consecutive mr-row
// tiles t, it sets C[t·mr:(t+1)·mr, 0:nr] = alpha·A_t·B + beta·C where
// A_t element (i, p) is a[t*aNext+i*rsA+p*csA] (i < mr, p < k), B element
// (p, j) is b[p*csB+j] (j < nr contiguous, the same for every tile) and C
// element (i, j) is c[i*ldc+j]. With loadC false, C is only written (beta
// is ignored, NaNs in C do not propagate). k, tiles >= 1.
//
// Every implementation computes the same bits: one accumulator per
// element of C, starting at +0, updated as acc = fma(A(i, p), B(p, j), acc)
// for p = 0, 1, ..., k-1, then C = fma(alpha, acc, beta·C) with beta·C
// rounded first, or C = alpha·acc (rounded) when !loadC.
type kernelFunc[T float] func(k int, a []T, rsA, csA int, b []T, csB int, c []T, ldc, tiles, aNext int, alpha, beta T, loadC bool)

// kernelGo is the portable micro-kernel; it runs for kernels.Generic and in
// purego builds, with kernels.FMA where the assembly has VFMADD.
func kernelGo[T float](k int, a []T, rsA, csA int, b []T, csB int, c []T, ldc, tiles, aNext int, alpha, beta T, loadC bool) {
	for t := 0; t < tiles; t++ {
		kernelGo1(nrOf[T](), k, a[t*aNext:], rsA, csA, b, csB, c[t*mr*ldc:], ldc, alpha, beta, loadC)
	}
}

// kernelGoHalf is kernelGo on tiles half as wide (nr/2 columns), the
// portable counterpart of the assembly edge kernels.
func kernelGoHalf[T float](k int, a []T, rsA, csA int, b []T, csB int, c []T, ldc, tiles, aNext int, alpha, beta T, loadC bool) {
	for t := 0; t < tiles; t++ {
		kernelGo1(nrOf[T]()/2, k, a[t*aNext:], rsA, csA, b, csB, c[t*mr*ldc:], ldc, alpha, beta, loadC)
	}
}

// kernelGo1 is kernelGo for one tile of nr columns. The products are
// fused into the accumulators with kernels.FMA, never with a plain
// acc += a*b, which the compiler fuses or not depending on GOARCH and
// GOAMD64; the final update is mergeTile's formula.
func kernelGo1[T float](nr, k int, a []T, rsA, csA int, b []T, csB int, c []T, ldc int, alpha, beta T, loadC bool) {
	var acc [mr * 32]T // up to the AVX-512 float32 tile width
	for p := 0; p < k; p++ {
		bp := b[p*csB : p*csB+nr]
		for i := 0; i < mr; i++ {
			ai := a[i*rsA+p*csA]
			kernels.AxpyFused(ai, bp, acc[i*nr:i*nr+nr])
		}
	}
	mergeTile(c, ldc, acc[:], nr, mr, nr, alpha, beta, loadC)
}

// Instantiated once: taking kernelGo[T] as a value inside generic code
// would allocate a closure per call.
var (
	kernelGo32     kernelFunc[float32] = kernelGo[float32]
	kernelGo64     kernelFunc[float64] = kernelGo[float64]
	kernelGoHalf32 kernelFunc[float32] = kernelGoHalf[float32]
	kernelGoHalf64 kernelFunc[float64] = kernelGoHalf[float64]
)

// goKernel returns kernelGo[T] (or kernelGoHalf[T] if half) without
// allocating.
func goKernel[T float](half bool) kernelFunc[T] {
	if dtype.Is32[T]() {
		if half {
			return *(*kernelFunc[T])(unsafe.Pointer(&kernelGoHalf32))
		}
		return *(*kernelFunc[T])(unsafe.Pointer(&kernelGo32))
	}
	if half {
		return *(*kernelFunc[T])(unsafe.Pointer(&kernelGoHalf64))
	}
	return *(*kernelFunc[T])(unsafe.Pointer(&kernelGo64))
}
