//go:build amd64 && gc && !purego

package fused

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// transposeAsm runs Transpose through the AVX2 or (at kernels.AVX512)
// AVX-512 kernels and reports true. Shapes are checked, r, c >= 1. A
// kernel call moves a run of blocks of at most L×L values (L the lanes of
// a vector) along the longer side: W (D×C, C <= L) goes in one call per
// block column, read once front to back, and a C×D gradient in one call
// per block row.
func transposeAsm[T kernels.Float](r, c int, src []T, lds int, dst []T, ldd int) bool {
	size := dtype.Size[T]()
	is512 := kernels.ISA() >= kernels.AVX512
	vb := 32
	if is512 {
		if trace512 {
			calls512[3]++
		}
		vb = 64
	}
	L := vb / size
	ps, pd := unsafe.Pointer(&src[0]), unsafe.Pointer(&dst[0])
	// run moves nb blocks of rb×cb values, the first at row i0 and column
	// j0 of src, each next one sstep elements on in src and dstep in dst.
	run := func(i0, j0, rb, cb, nb, sstep, dstep int) {
		s := unsafe.Add(ps, size*(i0*lds+j0))
		d := unsafe.Add(pd, size*(j0*ldd+i0))
		switch {
		case is512 && size == 8:
			transposeF64AVX512((*float64)(d), ldd, (*float64)(s), lds, rb, cb, nb, sstep, dstep)
		case is512:
			transposeF32AVX512((*float32)(d), ldd, (*float32)(s), lds, rb, cb, nb, sstep, dstep)
		case size == 8:
			transposeF64((*float64)(d), ldd, (*float64)(s), lds, rb, cb, nb, sstep, dstep, &ntMask64[8-rb], &ntMask64[8-cb])
		default:
			transposeF32((*float32)(d), ldd, (*float32)(s), lds, rb, cb, nb, sstep, dstep, &ntMask32[16-rb], &ntMask32[16-cb])
		}
	}
	if r >= c {
		// Down the rows of src, block column by block column.
		full, rem := r/L, r%L
		for j0 := 0; j0 < c; j0 += L {
			cb := min(L, c-j0)
			if full > 0 {
				run(0, j0, L, cb, full, L*lds, L)
			}
			if rem > 0 {
				run(full*L, j0, rem, cb, 1, 0, 0)
			}
		}
		return true
	}
	// Along the rows of src, block row by block row.
	full, rem := c/L, c%L
	for i0 := 0; i0 < r; i0 += L {
		rb := min(L, r-i0)
		if full > 0 {
			run(i0, 0, rb, L, full, L, L*ldd)
		}
		if rem > 0 {
			run(i0, full*L, rb, rem, 1, 0, 0)
		}
	}
	return true
}
