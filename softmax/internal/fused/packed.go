package fused

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

// Packable reports whether MulAddPacked takes a W of c columns: c = 8q + r
// with q ∈ {0, 1} and r ∈ {1, 2} (1, 2, 9 or 10 columns; 10 is CIFAR-10's
// classes). Those are the widths whose last columns MulAdd pads to a
// whole vector at the largest cost: 10 columns fill 10 of 16 float64 ZMM
// lanes, and MulAddPacked runs them as 1.25 vectors.
func Packable(c int) bool {
	return c >= 1 && c <= 10 && c%8 >= 1 && c%8 <= 2
}

// packedGroup is the number of values of p (rows of W) per group of the
// packed layout, and so the number of lane sums of an interleaved column.
const packedGroup = 4

// packedStride is the length of one group of a packed W of c columns.
func packedStride(c int) int {
	return (packedGroup*(c/8) + 1) * 8
}

// PackedLen returns the length of the packed form of a k×c W (Packable(c)).
func PackedLen(k, c int) int {
	return (k + packedGroup - 1) / packedGroup * packedStride(c)
}

// PackedPos returns the index of W[p, j] in the packed form of a W of c
// columns (Packable(c)). Rows of W come in groups of 4 values of p, each
// group packedStride(c) long: for c >= 8, the group's 4 rows of columns
// 0..7 (8 values each), then one vector of 8 for the last c mod 8 columns,
// column 8q + j of row 4g + t at lane 4j + t. The elements no W[p, j] maps
// to (columns past c, rows past k in the last group) must be zero.
func PackedPos(c, p, j int) int {
	g, t := p/packedGroup, p%packedGroup
	base := g * packedStride(c)
	if q8 := c / 8 * 8; j < q8 {
		return base + t*8 + j
	} else {
		return base + packedGroup*q8 + (j-q8)*packedGroup + t
	}
}

// PackedRow returns where row p of a W of c columns (Packable(c)) goes in
// the packed form: W[p, j] at full + j for j < 8·(c/8), and at
// inter + 4·(j - 8·(c/8)) for the last columns (PackedPos, a row at a
// time). For c < 8, full is the start of p's group.
func PackedRow(c, p int) (full, inter int) {
	g, t := p/packedGroup, p%packedGroup
	base := g * packedStride(c)
	if c < 8 {
		return base, base + t
	}
	return base + t*8, base + packedGroup*8 + t
}

// MulAddPacked computes, for i < m and j < c (Packable(c)),
//
//	s[i*lds+j] += Σ_{p<k} a[i*lda+p] · W[p, j]
//
// with W in the packed form of PackedPos (b, PackedLen(k, c) long), in
// exactly this order on every ISA level (fma rounds x·y+z once):
//
//	columns j < 8·(c/8), as MulAdd:
//	  s := +0; for p := 0; p < k; p++ { s = fma(a[i*lda+p], W[p, j], s) }
//	  s[i*lds+j] += s
//	the last c mod 8 columns, with 4 lane sums:
//	  for t < 4: l[t] := +0; for p := t; p < k; p += 4 { l[t] = fma(a[i*lda+p], W[p, j], l[t]) }
//	  s[i*lds+j] += (l[0] + l[1]) + (l[2] + l[3])
//
// so every level gives the same bits. The AVX2 and AVX-512 levels run
// float64 only (float32 goes through this order in Go). It writes only
// columns below c of s. It panics, naming the argument, if a size is bad
// or a slice too short; s must not share memory with a or b.
func MulAddPacked[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) {
	if !Packable(c) {
		panic(fmt.Sprintf("fused.MulAddPacked: c=%d is not 1, 2, 9 or 10", c))
	}
	if m < 0 || k < 0 || lda < 0 || lds < c {
		panic(fmt.Sprintf("fused.MulAddPacked: bad sizes m=%d k=%d lda=%d lds=%d (c=%d)", m, k, lda, lds, c))
	}
	if m == 0 {
		return
	}
	if need := (m-1)*lds + c; len(s) < need {
		panic(fmt.Sprintf("fused.MulAddPacked: len(s)=%d < %d for m=%d c=%d lds=%d", len(s), need, m, c, lds))
	}
	if k == 0 {
		return
	}
	if need := (m-1)*lda + k; len(a) < need {
		panic(fmt.Sprintf("fused.MulAddPacked: len(a)=%d < %d for m=%d k=%d lda=%d", len(a), need, m, k, lda))
	}
	if need := PackedLen(k, c); len(b) < need {
		panic(fmt.Sprintf("fused.MulAddPacked: len(b)=%d < %d for k=%d c=%d", len(b), need, k, c))
	}
	if kernels.ISA() >= kernels.AVX2 && mulAddPackedAsm(m, c, k, a, lda, b, s, lds) {
		return
	}
	mulAddPackedGeneric(m, c, k, a, lda, b, s, lds)
}

// mulAddPackedGeneric is MulAddPacked in plain Go, in its order: every
// chain of a row (a column below 8q, or a lane t of an interleaved column)
// advances in increasing p, p outermost.
func mulAddPackedGeneric[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) {
	q8, st := c/8*8, packedStride(c)
	for i := 0; i < m; i++ {
		ai, si := a[i*lda:][:k], s[i*lds:][:c]
		var acc [8]T
		var l [2][packedGroup]T
		for p, av := range ai {
			g, t := p/packedGroup, p%packedGroup
			grp := b[g*st:][:st]
			if q8 > 0 {
				kernels.AxpyFused(av, grp[t*8:t*8+8], acc[:])
			}
			for j := range c - q8 {
				l[j][t] = kernels.FMA(av, grp[packedGroup*q8+j*packedGroup+t], l[j][t])
			}
		}
		for j := range q8 {
			si[j] += acc[j]
		}
		for j := range c - q8 {
			si[q8+j] += (l[j][0] + l[j][1]) + (l[j][2] + l[j][3])
		}
	}
}
