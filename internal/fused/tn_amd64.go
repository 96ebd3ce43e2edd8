//go:build amd64 && gc && !purego

package fused

import (
	"unsafe"

	"github.com/nnkern/nnkern/kernels"
)

// tnWindowBytes bounds the bytes of B (k rows × a group of strips) that
// the strip kernels of all row blocks of C go through before moving on, so
// that the second and later row blocks read that part of B from L1.
const tnWindowBytes = 16 << 10

// mulAddTNAsm runs MulAddTN through the AVX2+FMA strip kernels over the
// columns that fill whole vectors and returns how many columns it did
// (the caller does the rest). Shapes are checked, m, n, k >= 1.
func mulAddTNAsm[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) int {
	w := Width[T]()
	size := int(unsafe.Sizeof(a[0]))
	n2 := n / (2 * w) // strips of 2 vectors
	n1 := (n - n2*2*w) / w
	group := max(1, tnWindowBytes/(k*2*w*size))
	pa, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	call := func(j0, v, ns int) {
		for i0 := 0; i0 < m; i0 += 5 {
			mm := min(5, m-i0)
			ci := unsafe.Add(pc, size*(i0*ldc+j0))
			ai := unsafe.Add(pa, size*i0)
			bj := unsafe.Add(pb, size*j0)
			if size == 8 {
				tnF64[mm-1][v-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bj), ldb, k, ns)
			} else {
				tnF32[mm-1][v-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bj), ldb, k, ns)
			}
		}
	}
	for s := 0; s < n2; s += group {
		call(s*2*w, 2, min(group, n2-s))
	}
	if n1 > 0 {
		call(n2*2*w, 1, 1)
	}
	return (n2*2 + n1) * w
}
