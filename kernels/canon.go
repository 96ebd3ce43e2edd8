package kernels

import (
	"github.com/nnkern/nnkern/kernels/internal/canon"

	"github.com/nnkern/nnkern/internal/dtype"
)

// The canonical reduction order (package kernels/internal/canon): P
// partial sums, element i into partial i mod P, then a halving tree. The
// generic Go code below defines it; the assembly of every ISA level
// implements the same order with its own registers.

// canonMax is the largest P, the size of the partial-sum buffers.
const canonMax = canon.Partials32

// partials returns P for accumulators of type T.
func partials[T Float]() int {
	if dtype.Is32[T]() {
		return canon.Partials32
	}
	return canon.Partials64
}

// treeSum combines the partial sums p (a power-of-two count) by the
// halving tree p[i] += p[i+h], h = len(p)/2 … 1, and returns p[0]. Only
// p[:used] may be nonzero: a level whose upper half lies beyond used adds
// +0s, an exact identity (a partial sum is never −0), and is skipped.
func treeSum[T Float](p []T, used int) T {
	for h := len(p) / 2; h >= 1; h /= 2 {
		if used > h {
			lo, hi := p[:h], p[h:2*h]
			for i := range lo {
				lo[i] += hi[i]
			}
		}
	}
	return p[0]
}

// canonSum returns Σ x[i] in the canonical order.
func canonSum[T Float](x []T) T {
	var buf [canonMax]T
	p := buf[:partials[T]()]
	n := len(x)
	for len(x) >= len(p) {
		blk := x[:len(p)]
		for j, v := range blk {
			p[j] += v
		}
		x = x[len(p):]
	}
	for j, v := range x {
		p[j] += v
	}
	return treeSum(p, min(n, len(p)))
}
