//go:build amd64 && gc && !purego

package blas

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

//go:generate sh -c "cd _gen && go run . -out ../gemm_kernel_amd64.s -stubs ../gemm_kernel_stub_amd64.go -pkg blas"

// widthAt returns how many times nrOf[T]() columns the micro-kernels of
// level lvl update: 2 for the AVX-512 kernels (two ZMM vectors), else 1.
func widthAt(lvl kernels.Level) int {
	if lvl >= kernels.AVX512 {
		return 2
	}
	return 1
}

// microKernel returns the micro-kernel for the ISA level lvl
// (kernels.ISA()): the AVX-512 or AVX2+FMA assembly or the portable Go
// one. They update mr×nr tiles (mr×nr/2 if half), nr = nrOf[T]()·
// widthAt(lvl), with the same data layout, and give the same bits.
func microKernel[T float](lvl kernels.Level, half bool) kernelFunc[T] {
	if lvl < kernels.AVX2 {
		return goKernel[T](half)
	}
	if lvl >= kernels.AVX512 {
		if dtype.Is32[T]() {
			f := kernelFunc[float32](kernelAVX512F32)
			if half {
				f = kernelAVX512F32Half
			}
			return *(*kernelFunc[T])(unsafe.Pointer(&f))
		}
		f := kernelFunc[float64](kernelAVX512F64)
		if half {
			f = kernelAVX512F64Half
		}
		return *(*kernelFunc[T])(unsafe.Pointer(&f))
	}
	if dtype.Is32[T]() {
		f := kernelFunc[float32](kernelAVX2F32)
		if half {
			f = kernelAVX2F32Half
		}
		return *(*kernelFunc[T])(unsafe.Pointer(&f))
	}
	f := kernelFunc[float64](kernelAVX2F64)
	if half {
		f = kernelAVX2F64Half
	}
	return *(*kernelFunc[T])(unsafe.Pointer(&f))
}

func kernelAVX2F32(k int, a []float32, rsA, csA int, b []float32, csB int, c []float32, ldc, tiles, aNext int, alpha, beta float32, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 16)
	gemmKernelAVX2F32(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX2F64(k int, a []float64, rsA, csA int, b []float64, csB int, c []float64, ldc, tiles, aNext int, alpha, beta float64, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 8)
	gemmKernelAVX2F64(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX2F32Half(k int, a []float32, rsA, csA int, b []float32, csB int, c []float32, ldc, tiles, aNext int, alpha, beta float32, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 8)
	gemmKernelAVX2F32Half(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX2F64Half(k int, a []float64, rsA, csA int, b []float64, csB int, c []float64, ldc, tiles, aNext int, alpha, beta float64, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 4)
	gemmKernelAVX2F64Half(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX512F32(k int, a []float32, rsA, csA int, b []float32, csB int, c []float32, ldc, tiles, aNext int, alpha, beta float32, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 32)
	gemmKernelAVX512F32(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX512F64(k int, a []float64, rsA, csA int, b []float64, csB int, c []float64, ldc, tiles, aNext int, alpha, beta float64, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 16)
	gemmKernelAVX512F64(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX512F32Half(k int, a []float32, rsA, csA int, b []float32, csB int, c []float32, ldc, tiles, aNext int, alpha, beta float32, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 16)
	gemmKernelAVX512F32Half(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func kernelAVX512F64Half(k int, a []float64, rsA, csA int, b []float64, csB int, c []float64, ldc, tiles, aNext int, alpha, beta float64, loadC bool) {
	checkKernelArgs(k, len(a), rsA, csA, len(b), csB, len(c), ldc, tiles, aNext, 8)
	gemmKernelAVX512F64Half(k, &a[0], rsA, csA, &b[0], csB, &c[0], ldc, tiles, aNext, alpha, beta, b2i(loadC))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkKernelArgs verifies, cheaply, that the assembly stays inside the
// slices it is given: the last element of A, B and C it touches exists
// (all strides are non-negative).
func checkKernelArgs(k, la, rsA, csA, lb, csB, lc, ldc, tiles, aNext, nr int) {
	if k <= 0 || tiles <= 0 || rsA < 0 || csA < 0 || aNext < 0 || csB < 0 || ldc < nr ||
		la < (tiles-1)*aNext+(mr-1)*rsA+(k-1)*csA+1 || lb < (k-1)*csB+nr || lc < (tiles*mr-1)*ldc+nr {
		panic("blas: internal error: micro-kernel operands out of range")
	}
}
