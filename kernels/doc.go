// Package kernels holds nnkern's SIMD primitives: level-1 vector kernels,
// row and column reductions, nonlinearities, a vectorised exp, fused softmax
// cross-entropy and hinge rows, uint8 to float conversion, and the steps
// of the momentum, rmsprop and adam update rules, each for float32 and
// float64.
//
//	kernels.Axpy(-lr, grad, w)                     // w += −lr·grad
//	loss := kernels.SoftmaxCERows(dS, S, B, C, C, y, 1/float32(B))
//	kernels.BiasReLU(H, B, hidden, hidden, b1)     // H = max(0, H + b1)
//
// # Implementations and dispatch
//
// Every kernel has a generic Go version that defines its semantics (the
// doc comment states them) and, on amd64, two assembly versions generated
// with avo from the same templates in kernels/_gen: AVX2+FMA (YMM
// registers) and AVX-512 F/DQ/BW/VL (ZMM registers, opmask tails); go
// generate writes them and make generate-check verifies the committed .s
// files. The level is chosen at init from the CPU features
// reported by github.com/klauspost/cpuid/v2; the environment variable
// NNKERN_ISA (avx512, avx2 or generic) caps the choice, and SetISA lets
// tests force a lower level:
//
//	restore := kernels.SetISA(kernels.Generic)
//	defer restore()
//	s := kernels.Dot(x, y) // runs the pure-Go loop
//
// Implemented and Dispatched tell which implementation a kernel has and
// uses (nnkern cpuinfo and the benchmark rows report Dispatched). Building
// with the purego tag removes every assembly file; the results
// stay the same (see Numerics).
//
// # Numerics: one result on every CPU
//
// Every kernel gives bit-identical results on every ISA level (generic Go,
// AVX2, AVX-512), in a build with the purego tag, for any GOAMD64 level and
// on any machine: the generic Go version defines the result, and each
// assembly level computes exactly the same operations in the same order,
// at its own vector width and speed (NaN payloads and signs are not part
// of the contract). Two rules make that possible:
//
//   - Reductions (Dot, Sum, SumSq, SumSq64, the row sums z of SoftmaxRows
//     and SoftmaxCERows, each row's margin sum of HingeRows) use one
//     canonical order per accumulator type: P partial sums (64 for float32
//     accumulators, 32 for float64, also when float64 lanes sum float32
//     data as HingeRows and SumSq64 do), all starting at +0, element i
//     into partial i mod P in increasing i, then combined by a halving tree
//     (p[i] += p[i+P/2], then P/4, … 1). A YMM or ZMM implementation holds
//     the partials in P/lanes registers and ends with plain vertical adds.
//     Losses summed over rows (HingeRows, SoftmaxCERows) add the rows in
//     order in Go, the same code for every level. ColSum sums rows in
//     order. Elementwise kernels, Max, RowMax, ArgMax and Exp have no
//     order to fix.
//   - Fusing: wherever one level fuses a multiply-add, every level does
//     (the generic Go uses FMA: math.FMA, or an exact float32 emulation,
//     because a float64 result rounded again to float32 can double-round);
//     where it must not, the Go code forbids the compiler's own fusion
//     with an explicit conversion, T(x*y) + z, so that GOAMD64=v3 or an
//     arm64 build keeps the bits. Dot and SumSq fuse each product into
//     its partial sum (so does SumSq64 for float32 data, whose squares
//     are exact in float64; it rounds a float64 square, then adds); Axpy
//     rounds the product, then the sum, and MomentumStep, RMSPropStep and
//     AdamStep round every operation on its own (their divisions and
//     square roots are correctly rounded instructions, never reciprocal
//     estimates).
//
// SoftmaxCERows' loss is one formula on every level: per block of up to 64
// rows, log(Π z) − Σ (s_y − m), with the product rescaled by a fixed rule
// and Log, a port of glibc's logarithm that gives the same bits on every
// platform (math.Log does not: it is assembly on amd64 and compiled Go,
// which the compiler may fuse, elsewhere; on amd64 it is also wrong for
// subnormal arguments).
//
// The results are within the usual error bounds of the operations
// (n·ε·Σ|x[i]·y[i]| for the reductions); each test states its tolerance
// against a float64 reference, and checks every level against the
// canonical order bit for bit.
//
// Exp is a range-reduced polynomial (kernels/internal/expc), not math.Exp;
// the generic Go version computes the same bits as the assembly (it uses
// math.FMA, and an exact float32 FMA emulation). Measured by TestExpAccuracy:
//
//   - float64, 2^21 points of [−708.39, 0]: at most 2 ulp from math.Exp.
//     math.Exp itself is up to 1.7 ulp off on amd64: against mpmath, on
//     12625 points of [−708.39, 0] that include all 163 of 4·10⁶ random
//     points where Exp and math.Exp are 2 ulp apart, Exp's error is at
//     most 0.97 ulp.
//   - float32, all 1118742775 float32 in [−87.33, −0]
//     (NNKERN_EXP_EXHAUSTIVE=1; by default every 61st): at most 1 ulp from
//     the correctly rounded value, at most 0.979 ulp from the exact value;
//     the assembly and the generic version agree bit for bit on all of them.
//
// Exp is exactly 1 at ±0, +0 below −708.39 (float64) or −87.33 (float32), so
// no subnormal result is produced, +Inf above ln(MaxFloat), NaN for NaN.
//
// # Speed
//
// The assembly levels are what the models run on; the generic level exists
// for the contract and for CPUs without them (in float32 it is slow by
// design: it matches the fused assembly through an exact FMA emulation).
// AVX-512 processes twice the lanes of AVX2 per instruction; at the sizes
// the models use, the elementwise kernels are bound by L1/L2 bandwidth,
// the reductions and Exp by arithmetic. go test -bench . ./kernels and
// nnkern bench measure every kernel per level; docs/performance.md gives
// the figures and the machine they were measured on.
//
// # Bad input
//
// Kernels panic, naming the kernel, the arguments and their lengths (or the
// matrix shape), when their arguments disagree; they never read or write
// outside the slices given.
//
// # Environment
//
// nnkern prints nothing. A bad value of an environment variable it reads
// (NNKERN_ISA here, NNKERN_BLAS, NNKERN_POOL_SPIN, NNKERN_LOAD_LIMIT in the
// packages that read them) leaves the default in place and is reported by
// EnvError, one error for all of them; a program that embeds nnkern checks
// it once at start-up:
//
//	if err := kernels.EnvError(); err != nil {
//		log.Fatal(err) // or warn and go on with the defaults
//	}
package kernels
