package fused

import (
	"fmt"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// NTLanes returns the number of lane sums L of MulAddNT's contract: 16 for
// float32 and 8 for float64 (64 bytes: one AVX-512 vector, two AVX2 ones),
// on every ISA level.
func NTLanes[T kernels.Float]() int {
	return 64 / dtype.Size[T]()
}

// MulAddNT computes, for i < m and j < n,
//
//	c[i*ldc+j] += Σ_{p<k} a[i*lda+p] · b[j*ldb+p]
//
// that is C (m×n) += A·Bᵀ with A m×k and B n×k, both row-major: a dot
// product of a row of A and a row of B per element. With A = X_b (rows×D)
// and B = Wᵀ (C×D) it is the scores S_b = X_b·W of a linear classifier,
// with D along the SIMD lanes, so that no lane holds padding whatever C
// is.
//
// Every ISA level computes each element in exactly this order, with
// L = NTLanes[T]() (16 for float32, 8 for float64, on every level), fma
// rounding x·y+z once as kernels.FMA does and the other operations plain
// adds:
//
//	var s [L]T // all +0
//	for p := 0; p < k; p++ { s[p%L] = fma(a[i*lda+p], b[j*ldb+p], s[p%L]) }
//	for h := L / 2; h >= 1; h /= 2 {
//		for l := 0; l < h; l++ { s[l] = s[l] + s[l+h] }
//	}
//	c[i*ldc+j] += s[0] // nothing at all when k == 0
//
// so every level gives the same bits. The assembly keeps the L lane sums
// of an element in one AVX-512 or two AVX2 vectors, for a block of up to
// 4 × 5 (AVX-512) or 2 × 3 (AVX2) rows of A × rows of B, over all of k;
// the blocking splits rows and columns of C, never p. m, n, k >= 0, lda >= k, ldb >= k,
// ldc >= n; it panics, naming the argument, if a slice is too short. No
// padding is needed: the last k mod L values of p go through masked
// loads, which read nothing past the rows. (At AVX-512, rows of A that
// start off a 64-byte line are read as whole aligned lines, each holding
// at least one element of the row, and realigned in registers; the other
// lanes of those lines are never used.) It runs fastest with the rows of
// B 64-byte aligned (ldb a multiple of NTLanes and b from a large
// allocation): each step loads a whole vector from every row of B, and a
// load across two cache lines costs two. c must not share memory with a
// or b (not checked; the callers never alias them).
func MulAddNT[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if m < 0 || n < 0 || k < 0 || lda < k || ldb < k || ldc < n {
		panic(fmt.Sprintf("fused.MulAddNT: bad sizes m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc))
	}
	if m == 0 || n == 0 {
		return
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("fused.MulAddNT: len(c)=%d < %d for m=%d n=%d ldc=%d", len(c), need, m, n, ldc))
	}
	if k == 0 {
		return
	}
	if need := (m-1)*lda + k; len(a) < need {
		panic(fmt.Sprintf("fused.MulAddNT: len(a)=%d < %d for m=%d k=%d lda=%d", len(a), need, m, k, lda))
	}
	if need := (n-1)*ldb + k; len(b) < need {
		panic(fmt.Sprintf("fused.MulAddNT: len(b)=%d < %d for n=%d k=%d ldb=%d", len(b), need, n, k, ldb))
	}
	if kernels.ISA() >= kernels.AVX2 && mulAddNTAsm(m, n, k, a, lda, b, ldb, c, ldc) {
		return
	}
	mulAddNTGeneric(m, n, k, a, lda, b, ldb, c, ldc)
}

// mulAddNTGeneric is MulAddNT in plain Go, element by element in
// MulAddNT's order: the L lane sums by kernels.FMA as the assembly's
// VFMADD computes them, then the tree of plain adds (no product in them
// for the compiler to fuse) and one plain add to C.
func mulAddNTGeneric[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	L := NTLanes[T]()
	var acc [16]T
	s := acc[:L]
	for i := 0; i < m; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			bj := b[j*ldb : j*ldb+k]
			clear(s)
			for p0 := 0; p0 < k; p0 += L {
				for l, x := range ai[p0:min(p0+L, k)] {
					s[l] = kernels.FMA(x, bj[p0+l], s[l])
				}
			}
			for h := L / 2; h >= 1; h /= 2 {
				for l := 0; l < h; l++ {
					s[l] = s[l] + s[l+h]
				}
			}
			c[i*ldc+j] += s[0]
		}
	}
}
