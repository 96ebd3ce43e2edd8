// Package kernels holds nnkern's SIMD primitives: level-1 vector kernels,
// row and column reductions, nonlinearities, a vectorised exp, fused softmax
// cross-entropy and hinge rows, and uint8 to float conversion, each for
// float32 and float64.
//
// Every kernel has a generic Go version that defines its semantics and, on
// amd64, assembly versions for AVX2+FMA (and AVX-512 where present) generated
// with avo from kernels/_gen. The implementation is chosen at init from the
// CPU features reported by github.com/klauspost/cpuid/v2; the environment
// variable NNKERN_ISA (avx512, avx2 or generic) caps the choice, and
// SetISA lets tests force a lower level:
//
//	restore := kernels.SetISA(kernels.Generic)
//	defer restore()
//	s := kernels.Dot(x, y) // runs the pure-Go loop
//
// Building with the purego tag removes every assembly file.
//
// Kernels panic, naming the kernel and the lengths, when their arguments
// disagree in length; they never read or write outside the slices given.
package kernels
