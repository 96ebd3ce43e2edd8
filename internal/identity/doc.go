// Package identity is the verification harness of nnkern's numerical
// contract, "one result on every CPU": for each dtype, every kernel of
// package kernels, blas.Gemm (and Gemv, Axpy, Scal) on the native backend,
// the fused kernels of softmax/internal/fused, the softmax and SVM losses, the
// two-layer net's loss and both trainers give bit-identical results at the
// generic level, at AVX2+FMA (and AVX-512), in a -tags purego build, for
// any GOAMD64 level, any GOMAXPROCS and on any machine.
//
// # What it computes
//
// The suite is a list of components, one per routine and dtype, named
// "package/Routine[/variant]/dtype": "kernels/Dot/f32", "blas/Gemm/f64",
// "softmax/Train/svm/f32", and "nprand/streams" and "identity/inputs" (a
// sample of the generated inputs: if two builds disagree on it, the input
// generator is at fault, not a kernel). A
// component runs many cases and hashes (SHA-256) the exact bits of every
// output of every case, returned scalars included (Dot's sum, the losses of
// SoftmaxCERows and HingeRows, ArgMax's index, loss histories, accuracies,
// the random stream's state after training). Outputs are written into fresh
// buffers with NaN guard elements around them (and between the rows of
// strided views), and the whole buffer is hashed, so a write outside the
// output also shows.
//
//   - kernels (every name in kernels.Kernels(), checked by TestIdentity,
//     plus kernels.FMA): every length 0..131 (two rounds of the canonical
//     reduction's 64 float32 / 32 float64 partial sums plus a tail) and
//     1000, 3071, 3073, 4099, at element offsets 0..7, each length also
//     with special values sprinkled in (±0, subnormals, huge values,
//     ±MaxFloat, and in a second case ±Inf and NaN); ties and signed zeros
//     for Max, ArgMax, ReLU, RowMax; Exp over its whole domain and a few
//     ulps around its thresholds; the row kernels at widths 1..70, 100, 257,
//     1, 3 and 7 rows, strides larger than the width, and tall matrices up
//     to 200 rows; the kernels that may work in place both ways.
//   - blas: Gemm for the four transposes over m×n grids around the
//     register tiles, k = 1..70, k around the k-blocking (kc = 512 for
//     float32, 256 for float64, ±1, 2·kc+3, and 384), strided views with
//     offsets, alpha and beta in {1, −0.5, 2, 0} (beta = 0 with C full of
//     NaN), empty dimensions, and large shapes that run in parallel and
//     pack A or B (up to 200×200×1031 and its TN counterpart); Gemv,
//     Axpy and Scal likewise.
//   - softmax/internal/fused: MulAdd in both of the softmax loss's uses
//     and MulAddTN, over widths, depths and strides. Go's internal rule
//     keeps this package from importing that one, so these components
//     are defined and run by its own TestIdentity through TestSuite,
//     NewComponent and the input helpers (Fill, Guarded, Put), and make
//     identity merges its hash file with this package's.
//   - softmax: Loss, SVMLoss (the fused path for C <= 16, the Gemm path
//     above), LossVectorized, SVMLossVectorized and Predict over 130 shapes
//     (N around the 32-row blocks and the thresholds of the chunk count,
//     1, 2 or 4 chunks, C from 1 to 25).
//   - twolayer: Net.Loss and LossVectorized over 10 shapes, the largest
//     big enough for parallel Gemms.
//   - training: 60 iterations of the softmax and of the SVM linear
//     classifier (batch 200 on 500×97 data, two learning rates) and of the
//     two-layer net (batch 200 on 1000×257 data, hidden 50, an epoch every
//     5 iterations), hashing the final model, the loss and accuracy
//     histories and the random stream's state.
//
// Every bit counts, except NaNs' signs and payloads: every NaN is hashed
// as the one quiet NaN (IEEE 754 leaves their propagation open and
// architectures differ: x86 produces a negative "default NaN" for an
// invalid operation, arm64 a positive one, and an input NaN may propagate
// instead), so "NaN here" is compared, its bits are not. The guard
// sentinel, a NaN with its own payload, keeps its bits, so a stray write
// over a guard element still shows.
//
// Inputs are generated from integers only (splitmix64 bits assembled into
// IEEE bit patterns with full random mantissas; see gen.go), so no build
// can compute them differently: there is no floating-point arithmetic a
// compiler could fuse or reorder.
//
// Component.Run computes one component at the current level
// (kernels.ISA()) and GOMAXPROCS. Check runs a list of components at a
// list of levels and, at each, at several GOMAXPROCS values, and lists
// every component whose hash differs from the generic level's at the
// first GOMAXPROCS value, rerunning it with the outputs kept to name the
// first differing case, output and element (its index counts the guard
// elements) with both values.
//
// # Harness and components
//
// The package's non-test files are the harness only (Recorder, the input
// generator, Run and Check, TestSuite and the helpers NewComponent,
// NewGen, Fill, Guarded, Put, TypeName), and import nothing above package
// kernels, so that the tests of any package can use it. The components
// themselves, which call kernels, blas, softmax, twolayer and nprand, are
// defined in the package's test files (kernels_test.go, rows_test.go,
// blas_test.go, models_test.go, assembled by Components in
// components_test.go) and run by its TestIdentity: a production import of
// those packages would place this package above them, and with it every
// internal package below them.
//
// # Running it
//
//	go test ./internal/identity ./softmax/internal/fused  # every level this CPU runs, GOMAXPROCS 1, 2, 3
//	go test -tags purego ./internal/identity
//	make identity                          # native, purego, GOAMD64=v3 and v4 builds, compared
//
// TestIdentity runs the suite at every level in kernels.Levels() (the
// levels the CPU and build support: NNKERN_ISA does not restrict them) and
// fails with one line per differing component:
//
//	kernels/Dot/f32: avx512, avx2 vs generic: 854 of 1360 cases differ, first n=3/off=0: dot[0] = 50389.11 (0x4744d51c) vs 50389.113 (0x4744d51d) (1 of 1 elements differ)
//
// (the level's value first, the generic level's second). With
// NNKERN_IDENTITY_OUT=file it writes the generic level's hashes to file,
// one "component<TAB>sha256" line per component after a few "#" header
// lines (Go version, build, levels, GOMAXPROCS values, number of
// components and of differing ones), and file.cases the hash of every case
// ("component<TAB>case<TAB>sha256"). The files are written whether or not the
// levels agree, so that builds can be compared even while a level is
// wrong; since every level of a build is compared with its generic level,
// equal files plus passing tests mean every level of every build agrees.
// make identity (scripts/identity.sh) runs the test in each build, compares
// each file with the native build's, prints the differing component lines,
// and ends with one line naming the builds, levels and number of components
// checked; IDENTITY_REF=file also compares the native file with one made
// on another machine. NNKERN_IDENTITY_RUN=regexp restricts TestIdentity to
// the matching components (for work on one kernel; the file is then not
// written).
//
// On an AVX-512 machine (cpuid reports AVX-512 F, DQ, BW and VL) the avx512
// level is in kernels.Levels(), so
//
//	go test -run TestIdentity -v ./internal/identity
//
// checks it against generic with the rest, and its log names the levels
// run ("levels generic avx512 avx2"). To compare two machines, run
// NNKERN_IDENTITY_OUT=/tmp/ident-$(hostname).txt go test -run TestIdentity
// ./internal/identity on each (or make identity IDENTITY_REF=file) and
// compare the files.
//
// The suite takes a few seconds per level and GOMAXPROCS value; the generic
// level is the slowest (its float32 FMA is an exact emulation).
package identity
