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
//   - Reductions (Dot, Sum, SumSq, the row sums z of SoftmaxRows and
//     SoftmaxCERows, each row's margin sum of HingeRows) use one canonical
//     order per accumulator type: P partial sums (64 for float32
//     accumulators, 32 for float64, also when float64 lanes sum float32
//     data as HingeRows does), all starting at +0, element i into partial
//     i mod P in increasing i, then combined by a halving tree
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
//     its partial sum; Axpy rounds the product, then the sum.
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
//     math.Exp itself is up to 1.7 ulp off on amd64: in a one-off check
//     against mpmath on 12625 points of [−708.39, 0], including all 163 of
//     4·10⁶ random points where Exp and math.Exp are 2 ulp apart, Exp's
//     error was at most 0.97 ulp.
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
// Measured on the development machine (AMD EPYC Zen 3 under KVM, AVX2+FMA,
// no AVX-512; 2 cores shared with other jobs, load average 15–17 during the
// runs) with
//
//	NNKERN_RATIOS=1 go test -run TestRatios -v ./kernels
//
// which interleaves both sides in 2 ms bursts and keeps each side's fastest
// of 40 bursts: absolute times on a loaded machine are noisy, the ratios are
// the result. The table is one run; the last column gives the ratios of
// three consecutive runs. The targets were set for AVX-512; this
// machine has AVX2.
//
//	| kernel                   | fast | ns/call | baseline                      | ns/call | ratio | 3 runs           | target |
//	|--------------------------|------|---------|-------------------------------|---------|-------|------------------|--------|
//	| Dot f32 n=3072           | avx2 | 151     | generic                       | 2892    | 19.2× | 19.2, 19.2, 19.0 | ≥8×    |
//	| Dot f64 n=3072           | avx2 | 515     | generic                       | 2870    | 5.6×  | 5.6, 5.2, 5.5    | ≥4×    |
//	| Axpy f32 n=3072          | avx2 | 149     | generic                       | 1927    | 13.0× | 13.0, 13.0, 13.0 | ≥8×    |
//	| Axpy f64 n=3072          | avx2 | 510     | generic                       | 2007    | 3.9×  | 3.9, 3.7, 3.8    | ≥4×    |
//	| Exp f32 n=4096           | avx2 | 2123    | float32(math.Exp(float64(x))) | 55618   | 26.2× | 26.2, 24.5, 25.8 | ≥10×   |
//	| Exp f64 n=4096           | avx2 | 5497    | math.Exp                      | 54481   | 9.9×  | 9.9, 8.9, 9.5    | ≥5×    |
//	| SoftmaxCERows f32 200x10 | avx2 | 5048    | generic                       | 66977   | 13.3× | 13.3, 12.8, 15.9 | ≥5×    |
//	| SoftmaxCERows f64 200x10 | avx2 | 7323    | generic                       | 39155   | 5.3×  | 5.3, 7.8, 5.8    | ≥5×    |
//
// Axpy (two loads and a store per element; at n=3072 the float64 operands,
// 48 KiB, do not fit the 32 KiB L1) is bound by memory, not arithmetic; in
// float64 it stays just under the AVX-512-based target on this machine. The
// generic float32 softmax is slow partly because its exp emulates the
// float32 FMA exactly (so that it matches the assembly bit for bit). The
// per-kernel benchmarks (BenchmarkDot/f32/isa=avx2/n=3072 and so on) report
// GFLOP/s or ns per element.
//
// # Bad input
//
// Kernels panic, naming the kernel, the arguments and their lengths (or the
// matrix shape), when their arguments disagree; they never read or write
// outside the slices given.
package kernels
