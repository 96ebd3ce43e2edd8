// Package fused holds the tall-skinny matrix kernels of the linear
// classifiers' fused loss: for a block of rows of X (N×D, D large) and a
// narrow weight matrix (D×C with C <= MaxCols),
//
//	S_b  = X_b · W        MulAdd(rows, cp, D, x, ldx, 1, w, cp, s, cp)
//	dW  += X_bᵀ · dS_b    MulAdd(D, cp, rows, x, 1, ldx, ds, cp, dw, cp)
//	dWᵀ += dS_bᵀ · X_b    MulAddTN(C, D, rows, ds, cp, x, ldx, dwt, ldwt)
//
// where cp = PadCols[T](C) is C rounded up to a whole number of SIMD vectors
// (the caller keeps W, S and dW in cp-wide padded workspaces whose padding
// columns are zero). A general GEMM runs such shapes at a fraction of peak;
// these kernels keep an r×cp block of C in registers for the whole
// reduction. MulAddTN computes the gradient transposed (C×D), with D
// across the SIMD lanes, so that no lane holds padding whatever C is; the
// softmax package uses it for the gradient and MulAdd for the scores.
// MulAddNT computes the scores from Wᵀ (C×D) the same way, by dot products
// with D across the lanes:
//
//	S_b += X_b · W        MulAddNT(rows, C, D, x, ldx, wt, ldwt, s, lds)
//
// Transpose moves W into Wᵀ for it, and the C×D gradient sums back into
// W's D×C layout. MulTN is MulAddTN onto a C of zeros without reading C,
// for the first block of a sum. MulAddPacked computes the scores for C =
// 1, 2, 9 or 10 from W packed (PackedPos, PackRowsT) so that the columns
// past the last multiple of 8 share one vector with 4 (float64) or 8
// (float32) values of D instead of filling a padded vector each:
//
//	S_b += X_b · W        MulAddPacked(rows, C, D, x, ldx, wpacked, s, lds)
//
// On amd64 with AVX2+FMA (kernels.ISA() >= kernels.AVX2) the kernels are
// avo-generated assembly (see _gen), with YMM registers, or ZMM registers
// and opmask tails at kernels.AVX512; elsewhere, under the purego tag or
// with NNKERN_ISA=generic, a plain Go loop.
//
// Numerical contract: every output element is computed by one fixed
// sequence of operations, stated on MulAdd, MulAddTN, MulAddNT and
// MulAddPacked, that depends on nothing but k (and MulAddTN's constant
// pass length, MulAddNT's and MulAddPacked's constant lane counts). The
// assembly and the Go code perform exactly that sequence: the Go code
// fuses a
// multiply-add precisely where the assembly uses VFMADD (kernels.FMA:
// math.FMA, or an exact float32 emulation), and its other operations are
// plain adds, which the compiler cannot fuse whatever GOAMD64. Register
// blocking, strips, cache windows, masked tails and prefetching follow the
// implementation but never change an element's sequence, and nothing here
// runs in parallel. So the results are bit-identical on every ISA level,
// in a purego build, for any GOAMD64, GOMAXPROCS or machine. (A NaN result
// is a NaN on every level; its payload bits are not specified.)
package fused

import (
	"fmt"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// MaxCols is the widest output (in columns) MulAdd accepts.
const MaxCols = 16

// Width returns the SIMD vector width in elements of T that output widths
// must be a multiple of: 8 for float32, 4 for float64.
func Width[T kernels.Float]() int {
	return 32 / dtype.Size[T]()
}

// PadCols returns c rounded up to a multiple of Width[T]().
func PadCols[T kernels.Float](c int) int {
	w := Width[T]()
	return (c + w - 1) / w * w
}

// MulAdd computes, for i < m and j < n,
//
//	c[i*ldc+j] += Σ_{p<k} a[i*ai+p*ap] · b[p*ldb+j]
//
// in exactly this order on every ISA level (fma rounds x·y+z once, as
// kernels.FMA does):
//
//	s := +0
//	for p := 0; p < k; p++ { s = fma(a[i*ai+p*ap], b[p*ldb+j], s) }
//	c[i*ldc+j] += s // a plain add; nothing at all when k == 0
//
// so every level gives the same bits. n must be a positive multiple of
// Width[T]() and at most MaxCols; the strides must be non-negative with
// ldc >= n. It panics, naming the argument, if a slice is too short.
// c must not share memory with a or b (the kernels read a and b while c's
// accumulators are in registers; the callers never alias them, and it is
// not checked).
func MulAdd[T kernels.Float](m, n, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) {
	w := Width[T]()
	if n <= 0 || n%w != 0 || n > MaxCols {
		panic(fmt.Sprintf("fused.MulAdd: n=%d is not a positive multiple of %d <= %d", n, w, MaxCols))
	}
	if m < 0 || k < 0 || ai < 0 || ap < 0 || ldb < 0 || ldc < n {
		panic(fmt.Sprintf("fused.MulAdd: bad sizes m=%d k=%d ai=%d ap=%d ldb=%d ldc=%d (n=%d)", m, k, ai, ap, ldb, ldc, n))
	}
	if m == 0 {
		return
	}
	if need := (m-1)*ldc + n; len(c) < need {
		panic(fmt.Sprintf("fused.MulAdd: len(c)=%d < %d for m=%d n=%d ldc=%d", len(c), need, m, n, ldc))
	}
	if k == 0 {
		return
	}
	if need := (m-1)*ai + (k-1)*ap + 1; len(a) < need {
		panic(fmt.Sprintf("fused.MulAdd: len(a)=%d < %d for m=%d k=%d ai=%d ap=%d", len(a), need, m, k, ai, ap))
	}
	if need := (k-1)*ldb + n; len(b) < need {
		panic(fmt.Sprintf("fused.MulAdd: len(b)=%d < %d for k=%d n=%d ldb=%d", len(b), need, k, n, ldb))
	}
	if kernels.ISA() >= kernels.AVX2 && mulAddAsm(m, n/w, k, a, ai, ap, b, ldb, c, ldc) {
		return
	}
	mulAddGeneric(m, n, k, a, ai, ap, b, ldb, c, ldc)
}

// mulAddGeneric is MulAdd in plain Go, one output row at a time, in
// MulAdd's order: the products fused into the sums with kernels.FMA as
// the assembly's VFMADD does, then one plain add to C.
func mulAddGeneric[T kernels.Float](m, n, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) {
	for i := 0; i < m; i++ {
		var acc [MaxCols]T
		s := acc[:n]
		for p := 0; p < k; p++ {
			av := a[i*ai+p*ap]
			kernels.AxpyFused(av, b[p*ldb:p*ldb+n], s)
		}
		ci := c[i*ldc : i*ldc+n]
		for j := range ci {
			ci[j] += s[j]
		}
	}
}
