//go:build amd64 && gc && !purego

package fused

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// tnWindowBytes bounds the bytes of B (k rows × a group of strips) that
// the strip kernels of all row blocks of C go through before moving on, so
// that the second and later row blocks read that part of B from L1.
const tnWindowBytes = 16 << 10

// tnMaxM[v-1] and tnMaxM512[v-1] are the row blockings of the v-vector
// AVX2 and AVX-512 strip kernels (see _gen).
var (
	tnMaxM    = [2]int{10, 6}
	tnMaxM512 = [2]int{16, 14}
)

// tnVecs is the strip width in vectors for the bulk of the columns: two
// passes of 5 rows × 2 vectors beat one pass of the 10-row, 1-vector
// kernels over B for C = 10 (~1.5× with a padded stride, equal with stride
// 3073; docs/performance.md), so those serve the last vector only.
const tnVecs = 2

// tnMask32[8-r:] and tnMask64[4-r:] begin with the lane mask of the first
// r lanes of a vector, for the tail kernels.
var (
	tnMask32 = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}
	tnMask64 = [8]int64{-1, -1, -1, -1}
)

// mulAddTNAsm runs MulAddTN through the AVX2+FMA or (at kernels.AVX512)
// AVX-512 kernels and reports true: the strip kernels over the columns
// that fill whole vectors, the masked tail kernels over the rest (fewer
// than one vector). Shapes are checked, m, n, k >= 1.
//
// It keeps MulAddTN's order: the loop over passes of tnPassRows values of
// p is outermost, each kernel call sums one pass from zero and adds it to
// C (with overwrite, the first pass writes its sum + 0 instead: MulTN),
// and the strip groups of the L1 window (and the row blocks of each call)
// split only the columns (rows) of C, never p.
func mulAddTNAsm[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, overwrite bool) bool {
	w := Width[T]()
	maxM := tnMaxM
	is512 := kernels.ISA() >= kernels.AVX512
	if is512 {
		if trace512 {
			calls512[1]++
		}
		w, maxM = 2*w, tnMaxM512
	}
	size := dtype.Size[T]()
	v := tnVecs
	sw := v * w
	nst := n / sw
	pa, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	// the rows of C in nb nearly equal blocks of at most tnMaxM[v-1];
	// v = 0 is the tail kernel of the last r columns
	ow := 0
	call := func(j0, v, k, ns, r int) {
		mm := maxM[max(v, 1)-1]
		nb := (m + mm - 1) / mm
		for bi := 0; bi < nb; bi++ {
			i0, i1 := m*bi/nb, m*(bi+1)/nb
			ci := unsafe.Add(pc, size*(i0*ldc+j0))
			ai := unsafe.Add(pa, size*i0)
			bj := unsafe.Add(pb, size*j0)
			switch {
			case is512 && size == 8 && v == 0:
				tnTailF64AVX512[i1-i0-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bj), ldb, k, 1<<r-1, ow)
			case is512 && size == 8:
				tnF64AVX512[v-1][i1-i0-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bj), ldb, k, ns, ow)
			case is512 && v == 0:
				tnTailF32AVX512[i1-i0-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bj), ldb, k, 1<<r-1, ow)
			case is512:
				tnF32AVX512[v-1][i1-i0-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bj), ldb, k, ns, ow)
			case size == 8 && v == 0:
				tnTailF64[i1-i0-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bj), ldb, k, &tnMask64[4-r], ow)
			case size == 8:
				tnF64[v-1][i1-i0-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bj), ldb, k, ns, ow)
			case v == 0:
				tnTailF32[i1-i0-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bj), ldb, k, &tnMask32[8-r], ow)
			default:
				tnF32[v-1][i1-i0-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bj), ldb, k, ns, ow)
			}
		}
	}
	done := nst * sw
	one := n-done >= w // one more strip of a single vector
	r := (n - done) % w
	pa0, pb0 := pa, pb
	for p0 := 0; p0 < k; p0 += tnPassRows {
		kp := min(tnPassRows, k-p0)
		ow = 0
		if overwrite && p0 == 0 {
			ow = 1
		}
		pa, pb = unsafe.Add(pa0, size*p0*lda), unsafe.Add(pb0, size*p0*ldb)
		group := nst
		if m > maxM[v-1] {
			group = max(1, tnWindowBytes/(kp*sw*size))
		}
		for s := 0; s < nst; s += group {
			call(s*sw, v, kp, min(group, nst-s), 0)
		}
		if one {
			call(done, 1, kp, 1, 0)
		}
		if r > 0 {
			call(n-r, 0, kp, 1, r)
		}
	}
	return true
}
