package fused

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

// MulAddTN computes, for i < m and j < n,
//
//	c[i*ldc+j] += Σ_{p<k} a[p*lda+i] · b[p*ldb+j]
//
// that is C (m×n) += Aᵀ·B with A k×m and B k×n, both row-major. With
// A = dS_b (rows×C) and B = X_b (rows×D) it is the transposed gradient
// dWᵀ (C×D) += dS_bᵀ·X_b of a linear classifier: unlike MulAdd's D×cp
// layout no SIMD lane holds padding, whatever C is.
//
// On AVX2 the strips of 2 vectors of columns are computed by assembly
// kernels that keep a block of up to 6 rows × 2 vectors of C in registers,
// sum over a pass of up to 8 values of p from zero and then add the block
// to C, pass after pass in increasing p; the remaining columns
// (fewer than one vector) and the generic build accumulate into C one p at
// a time. Either way the result is a deterministic function of the inputs
// for a given ISA level. m, n, k >= 0, lda >= m, ldb >= n, ldc >= n; it
// panics, naming the argument, if a slice is too short. c must not share
// memory with a or b (not checked; the callers never alias them).
func MulAddTN[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if m < 0 || n < 0 || k < 0 || lda < m || ldb < n || ldc < n {
		panic(fmt.Sprintf("fused.MulAddTN: bad sizes m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc))
	}
	if m == 0 || n == 0 {
		return
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("fused.MulAddTN: len(c)=%d < %d for m=%d n=%d ldc=%d", len(c), need, m, n, ldc))
	}
	if k == 0 {
		return
	}
	if need := (k-1)*lda + m; len(a) < need {
		panic(fmt.Sprintf("fused.MulAddTN: len(a)=%d < %d for k=%d m=%d lda=%d", len(a), need, k, m, lda))
	}
	if need := (k-1)*ldb + n; len(b) < need {
		panic(fmt.Sprintf("fused.MulAddTN: len(b)=%d < %d for k=%d n=%d ldb=%d", len(b), need, k, n, ldb))
	}
	done := 0
	if kernels.ISA() >= kernels.AVX2 {
		done = mulAddTNAsm(m, n, k, a, lda, b, ldb, c, ldc)
	}
	if done < n {
		mulAddTNGeneric(m, n-done, k, a, lda, b[done:], ldb, c[done:], ldc)
	}
}

// mulAddTNGeneric is MulAddTN in plain Go: C += a[p, i]·B[p, :] for p in
// increasing order.
func mulAddTNGeneric[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		for p := 0; p < k; p++ {
			av := a[p*lda+i]
			for j, bv := range b[p*ldb : p*ldb+n] {
				ci[j] += av * bv
			}
		}
	}
}
