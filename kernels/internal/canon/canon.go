// Package canon fixes the canonical order of nnkern's floating-point
// reductions, shared by the pure-Go kernels (which define the semantics)
// and the avo generators (which emit the same order for each vector
// width), so that every ISA level computes the same bits.
//
// A reduction Σ f(x[i]) with accumulators of type A keeps P(A) partial
// sums, all starting at +0: element i goes into partial i mod P, in
// increasing i. The partials are then combined by a halving tree:
//
//	for h := P/2; h >= 1; h /= 2 { p[i] += p[i+h] for i < h }
//
// and the result is p[0]. A SIMD implementation with L lanes per register
// holds partial j in lane j mod L of accumulator register j / L, adds
// registers for the tree levels h >= L and finishes inside one register
// (upper half onto lower half) for h < L, so YMM and ZMM code both end with
// plain vertical adds.
//
// A partial that starts at +0 is never −0 (x + (−0) and exact cancellation
// both give +0 in round-to-nearest), so adding a partial that no element
// reached is an exact identity: implementations may skip the tree levels
// whose upper halves no element reached, and masked vector tails may add
// zeros.
package canon

const (
	// Partials32 is P for float32 accumulators: 8 YMM or 4 ZMM registers.
	Partials32 = 64
	// Partials64 is P for float64 accumulators (also float64 lanes summing
	// float32 data): 8 YMM or 4 ZMM registers.
	Partials64 = 32
)
