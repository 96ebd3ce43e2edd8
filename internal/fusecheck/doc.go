// Package fusecheck holds TestNoImplicitFMA, the lint behind nnkern's
// numerical contract: one result on every CPU.
//
// The Go specification lets a compiler fuse x*y + z into one fused
// multiply-add, and gc does so on arm64 and, on amd64, from GOAMD64=v3 on;
// at GOAMD64=v1 it never does. A fused and an unfused multiply-add round
// differently, so an expression the compiler may fuse gives different bits
// on different machines and builds. nnkern's rule: where a multiply-add must
// be fused, Go code calls math.FMA or kernels.FMA; where it must not, an
// explicit conversion forbids the fusion, T(x*y) + z (the specification: an
// explicit floating-point conversion rounds to the target precision).
//
// The test builds every package of the module with the compiler's assembly
// listing (-gcflags=-S) for
//
//   - amd64, GOAMD64=v1 and v3, with the assembly kernels;
//   - amd64, GOAMD64=v1 and v3, with -tags purego (the generic Go kernels,
//     which only the purego build and other architectures compile);
//   - arm64 (its file set is the purego one: nnkern has no arm64 assembly),
//
// counts the fused multiply-add instructions of every function per source
// line, and fails for each line where v3 (or arm64) has more of them than
// v1: at GOAMD64=v1 the compiler emits them only for math.FMA (behind a CPU
// check), so any extra one is an implicit fusion. arm64 is compared with the
// amd64 purego v1 build: it compiles the same files, and it fuses more forms
// than amd64 v3 (z - x*y and x*y - z as well as x*y + z), so it finds sites
// that v3 does not. The test is a failing test, not a log: an arm64 fusion
// changes results on arm64 just as a v3 one does on amd64.
//
// Counting per function and line keeps inlining honest: a math.FMA inlined
// into a caller counts in the caller at the callee's line in both builds.
// A function that exists only in the checked build (another inlining or
// instantiation choice) is compared with zero, except at lines the
// reference fuses somewhere, which are math.FMA calls. The compiler finds
// fusions that are not visible in the source: it rewrites x*2 as x + x
// and fuses that with a multiply that produced x (also one inlined from
// another package, such as rand.Float64's u·2⁻⁵³), and on arm64 it fuses a
// multiply that has other uses by computing it twice. Round the product
// where it is defined in such cases.
//
// Test files are not checked (go build compiles no _test.go file), nor are
// assembly (.s) files, which the Go compiler does not compile.
//
// Run it with
//
//	go test ./internal/fusecheck
//
// The first run compiles the module five times (and the standard library
// for arm64 once); later runs replay the listings from the build cache.
package fusecheck
