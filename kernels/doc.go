// Package kernels holds nnkern's SIMD primitives: level-1 vector kernels,
// row and column reductions, nonlinearities, a vectorised exp, fused softmax
// cross-entropy and hinge rows, and uint8 to float conversion, each for
// float32 and float64.
//
//	kernels.Axpy(-lr, grad, w)                     // w += −lr·grad
//	loss := kernels.SoftmaxCERows(dS, S, B, C, C, y, 1/float32(B))
//	kernels.BiasReLU(H, B, hidden, hidden, b1)     // H = max(0, H + b1)
//
// # Implementations and dispatch
//
// Every kernel has a generic Go version that defines its semantics (the
// doc comment states them) and, on amd64, AVX2+FMA assembly generated with
// avo from kernels/_gen (go generate; make generate-check verifies the
// committed .s files). The level is chosen at init from the CPU features
// reported by github.com/klauspost/cpuid/v2; the environment variable
// NNKERN_ISA (avx512, avx2 or generic) caps the choice, and SetISA lets
// tests force a lower level:
//
//	restore := kernels.SetISA(kernels.Generic)
//	defer restore()
//	s := kernels.Dot(x, y) // runs the pure-Go loop
//
// Implemented and Dispatched tell which implementation a kernel has and
// uses. There is no AVX-512 code yet: on an AVX-512 machine the AVX2
// kernels run (Levels still lists avx512 and its tests run the AVX2 code).
// Building with the purego tag
// removes every assembly file.
//
// # Numerics
//
// Elementwise kernels (Axpy, Scale, AddTo, SubFrom, MulTo, ReLU, BiasReLU,
// ReLUBackward, AddBias, U8ToFloat), ColSum, Max, RowMax, ArgMax and Exp give
// the same bits on every level. Axpy rounds the product and then the sum (no
// FMA) for that reason. Dot, Sum, SumSq and the row sums inside SoftmaxRows
// and SoftmaxCERows add in a different order in assembly (several partial
// sums), so they differ in the last bits, within the usual n·ε bound.
//
// Exp is a range-reduced polynomial (kernels/internal/expc), not math.Exp;
// the generic Go version computes the same bits as the assembly (it uses
// math.FMA, and an exact float32 FMA emulation). Measured by TestExpAccuracy:
// float64, 2^21 points over [−708.39, 0]: at most 2 ulp from math.Exp (math.Exp
// itself is up to 1.7 ulp off on amd64: in a one-off check against mpmath
// on 12625 points of [−708.39, 0], including all 163 of 4·10⁶ random points
// where Exp and math.Exp are 2 ulp apart, Exp's error was at most 0.97 ulp); float32, every 61st float32 in [−87.33, 0]: at most 1 ulp
// from the correctly rounded value, at most 0.97 ulp from the exact value.
// Exp is exactly 1 at ±0, +0 below −708.39 (float64) or −87.33 (float32), so
// no subnormal result is produced, +Inf above ln(MaxFloat), NaN for NaN.
//
// # Speed
//
// Measured on the development machine (AMD EPYC Zen 3, AVX2+FMA, 2 cores
// shared with other jobs; load average 18 during the run) with
// NNKERN_RATIOS=1 go test -run TestRatios -v ./kernels, which interleaves
// both sides in 2 ms bursts and keeps each side's fastest of 40 bursts
// (absolute times on a loaded machine are noisy; the ratios are the
// result). The targets were set for AVX-512; this machine has AVX2.
//
//	| kernel                   | fast side | ns/call | baseline                      | ns/call | ratio | issue target |
//	|--------------------------|-----------|---------|-------------------------------|---------|-------|--------------|
//	| Dot f32 n=3072           | avx2      |     240 | generic                       |    2956 | 12.3× | ≥8×          |
//	| Dot f64 n=3072           | avx2      |     659 | generic                       |    2937 |  4.5× | ≥4×          |
//	| Axpy f32 n=3072          | avx2      |     163 | generic                       |     995 |  6.1× | ≥8×          |
//	| Axpy f64 n=3072          | avx2      |     513 | generic                       |    1209 |  2.4× | ≥4×          |
//	| Exp f32 n=4096           | avx2      |    2081 | float32(math.Exp(float64(x))) |   56027 | 26.9× | ≥10×         |
//	| Exp f64 n=4096           | avx2      |    5549 | math.Exp                      |   54566 |  9.8× | ≥5×          |
//	| SoftmaxCERows f32 200x10 | avx2      |    7152 | generic                       |   99414 | 13.9× | ≥5×          |
//	| SoftmaxCERows f64 200x10 | avx2      |   12058 | generic                       |   75564 |  6.3× | ≥5×          |
//
// Axpy (two loads and a store per element; at n=3072 the float64 operands,
// 48 KiB, do not fit the 32 KiB L1) is bound by memory, not arithmetic, and
// misses the AVX-512-based targets on this AVX2 machine.
//
// # Bad input
//
// Kernels panic, naming the kernel, the arguments and their lengths (or the
// matrix shape), when their arguments disagree; they never read or write
// outside the slices given.
package kernels
