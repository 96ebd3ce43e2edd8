package fused

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

// tnPassRows is the length of MulAddTN's passes: the values of p whose
// products are summed from zero before the sum is added to C. It is part of
// the numerical contract, shared by the assembly path (tn_amd64.go) and
// the Go code, and so a constant: deriving it from the cache size, the CPU
// or the thread count would make results differ between machines, and
// changing it changes the results of every level alike.
//
// Why 8: the strip kernels read one cache line from each row of A and B of
// the pass in turn, and when the row stride of B is close to a multiple of
// 4 KiB (X with D = 3073: 24584 bytes in float64) those lines map to the
// same few L1 sets; 8 rows fit in the 8 ways (passes of 8 make the
// softmax loss on stride-3073 rows ~10% faster than one pass of 32, and
// cost nothing with a padded stride). The Go code gains nothing from
// passes, but must sum in the same ones. (The assembly kernels take the
// pass length as their k argument: no generated code depends on this
// value.)
const tnPassRows = 8

// MulAddTN computes, for i < m and j < n,
//
//	c[i*ldc+j] += Σ_{p<k} a[p*lda+i] · b[p*ldb+j]
//
// that is C (m×n) += Aᵀ·B with A k×m and B k×n, both row-major. With
// A = dS_b (rows×C) and B = X_b (rows×D) it is the transposed gradient
// dWᵀ (C×D) += dS_bᵀ·X_b of a linear classifier: unlike MulAdd's D×cp
// layout no SIMD lane holds padding, whatever C is.
//
// Every ISA level computes each element in exactly this order, in passes
// of 8 consecutive values of p (the last pass shorter), with fma rounding
// x·y+z once as kernels.FMA does:
//
//	for p0 := 0; p0 < k; p0 += 8 {
//		s := +0
//		for p := p0; p < min(p0+8, k); p++ { s = fma(a[p*lda+i], b[p*ldb+j], s) }
//		c[i*ldc+j] += s // a plain add
//	}
//
// so every level gives the same bits. On AVX2 assembly kernels keep a
// block of up to 6 rows × 2 vectors (or 10 rows × 1 vector) of C in
// registers for a pass, the columns past the last whole vector through
// masked loads and stores; the blocking splits rows and columns, never p.
// m, n, k >= 0, lda >= m, ldb >= n, ldc >= n; it panics, naming the
// argument, if a slice is too short. c must not share memory with a or b
// (not checked; the callers never alias them).
func MulAddTN[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	mulAddTN("MulAddTN", m, n, k, a, lda, b, ldb, c, ldc, false)
}

// MulTN computes C = Aᵀ·B: the bits MulAddTN leaves in a C of zeros (+0),
// without reading C (its first pass writes s + 0, where MulAddTN adds s to
// C), so that a caller need not clear C first. With k == 0 it sets the
// m×n elements of C to +0. Same arguments, order and panics as MulAddTN.
func MulTN[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	mulAddTN("MulTN", m, n, k, a, lda, b, ldb, c, ldc, true)
}

func mulAddTN[T kernels.Float](fn string, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, overwrite bool) {
	if m < 0 || n < 0 || k < 0 || lda < m || ldb < n || ldc < n {
		panic(fmt.Sprintf("fused.%s: bad sizes m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", fn, m, n, k, lda, ldb, ldc))
	}
	if m == 0 || n == 0 {
		return
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("fused.%s: len(c)=%d < %d for m=%d n=%d ldc=%d", fn, len(c), need, m, n, ldc))
	}
	if k == 0 {
		if overwrite {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if need := (k-1)*lda + m; len(a) < need {
		panic(fmt.Sprintf("fused.%s: len(a)=%d < %d for k=%d m=%d lda=%d", fn, len(a), need, k, m, lda))
	}
	if need := (k-1)*ldb + n; len(b) < need {
		panic(fmt.Sprintf("fused.%s: len(b)=%d < %d for k=%d n=%d ldb=%d", fn, len(b), need, k, n, ldb))
	}
	if kernels.ISA() >= kernels.AVX2 && mulAddTNAsm(m, n, k, a, lda, b, ldb, c, ldc, overwrite) {
		return
	}
	mulAddTNGeneric(m, n, k, a, lda, b, ldb, c, ldc, overwrite)
}

// tnCols is the columns of C whose pass sums mulAddTNGeneric keeps at a
// time (any value gives the same results: it only splits columns).
const tnCols = 64

// mulAddTNGeneric is MulAddTN in plain Go, in MulAddTN's order: pass by
// pass, the products of the pass fused into sums from zero with
// kernels.FMA as the strip kernels' VFMADD does, then one plain add of
// each sum to C (with overwrite, the first pass writes sum + 0). Within
// a pass it goes through B in chunks of tnCols columns, which stay in L1
// for all rows of C.
func mulAddTNGeneric[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, overwrite bool) {
	var acc [tnCols]T
	for p0 := 0; p0 < k; p0 += tnPassRows {
		p1 := min(p0+tnPassRows, k)
		for j0 := 0; j0 < n; j0 += tnCols {
			s := acc[:min(tnCols, n-j0)]
			for i := 0; i < m; i++ {
				clear(s)
				for p := p0; p < p1; p++ {
					av := a[p*lda+i]
					kernels.AxpyFused(av, b[p*ldb+j0:][:len(s)], s)
				}
				ci := c[i*ldc+j0:][:len(s)]
				if overwrite && p0 == 0 {
					for j := range ci {
						ci[j] = s[j] + 0
					}
					continue
				}
				for j := range ci {
					ci[j] += s[j]
				}
			}
		}
	}
}
