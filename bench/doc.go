// Package bench is nnkern's benchmark harness: a registry of cases (peak
// probes, kernels, GEMM backends, model losses, the two-layer iteration and
// full training runs), a runner that times them against a per-case budget,
// and reports as a text table, JSON, Markdown tables (the generated part of
// docs/performance.md) and Go benchmark lines that benchstat reads.
//
// # Usage
//
// The command `nnkern bench` is a thin front for [Main]:
//
//	nnkern bench --list                      # the case names
//	nnkern bench --filter gemm --json > g.json
//	nnkern bench --markdown --slow           # Markdown tables, training runs included
//	nnkern bench --benchstat > old.txt       # compare machines or commits with benchstat
//	nnkern bench --report g.json --markdown  # render a saved report
//	nnkern bench --shape 200x3072x200 --op TN --threads 1   # any GEMM shape
//	nnkern bench --sizes 64..4096 --dtype f32 --plot gemm.png   # a size sweep, drawn as a roofline
//	nnkern bench --sizes 256..65536 --filter '^kernels/(Dot|Axpy)/' --plot l1.png  # level-1 lengths
//
// --sizes FROM..TO (powers of two) runs square GEMMs n×n×n for n = FROM,
// 2·FROM, …, TO (with every --op), and, when a --filter is given, the
// level-1 kernels (those whose size is a vector length) at length n; the
// filter then picks among both. --plot draws GFLOP/s (GEMM) and GB/s
// (level-1) against size with the measured FMA and read-bandwidth peaks
// (WritePlot). The JSON report's layout is versioned (SchemaVersion) and
// documented in docs/bench-json.md and docs/bench.schema.json. Machine
// (DescribeMachine) reads cores and caches from Linux sysfs where it can.
//
// Other programs embed the harness through [Run] and the writers:
//
//	rep, err := bench.Run(bench.Options{Filter: regexp.MustCompile(`^gemm/`), Budget: time.Second})
//	if err != nil { ... }
//	bench.WriteMarkdown(os.Stdout, rep)
//
// # Cases and rows
//
// A [Case] declares its family, operation, dtype, implementation, the ISA
// level it forces (or the current one), thread count (GOMAXPROCS), shape,
// FLOPs and bytes per operation, which peak it is a fraction of, the
// variants it compares with, and a setup function that returns the timed
// operation. Case names are paths: family/op/dtype/impl/isa=L/threads=T/shape,
// e.g. gemm/NN/f32/native/isa=avx2/threads=1/200x3072x200. --benchstat
// writes them as Go benchmark names, BenchmarkGemm/NN/f32/native/isa=avx2/
// threads=T/200x3072x200 (with go test's -T suffix for T > 1; see
// BenchName), the names `go test -bench Gemm ./blas` gives the same
// products, so benchstat compares the two.
//
// Every result row names the implementation and the ISA that actually ran:
// kernels.Dispatched for kernel rows (a kernel without assembly at a level
// reports generic), kernels.ISA for native GEMM and the models, "sse2" for
// gonum, OpenBLAS's own core name for openblas.
//
// # Measurement
//
// Each case is set up, run once untimed (warm-up; training runs skip it),
// calibrated so that a sample lasts about a tenth of the budget, and then
// sampled until the budget (--time, default 250ms) is spent and at least
// --samples (5; 3 for operations longer than a third of the budget, 1 for
// training runs) were taken. Cases that compare with each other (same
// family, op, dtype, threads and shape) are set up together and their
// samples alternate, so that a change of load on a shared machine hits
// every variant alike. Rows give the median, min, the interquartile
// range over the median (spread), GFLOP/s and GB/s at the median, % of the
// measured peak and the speed-up (median time of the compared variant over
// this row's).
//
// # Peak probes and their independent check
//
// The peaks are measured in the same process, from assembly generated with
// avo (bench/_gen, peak_amd64.s): FMA loops of 12 independent ymm
// accumulator chains (24 zmm chains for AVX-512, only where the CPU has
// it), f32 and f64, on 1 and all threads; a plain Go loop of 12 scalar
// multiply-add chains for the generic level; streaming reads of a 256 MiB
// buffer and the runtime's copy of 128 MiB. A peak is the rate of the
// fastest sample (slower ones are samples another process interrupted).
//
// The FMA probe is checked two ways, both by make check-peak (tests behind
// the peakcheck build tag: their verdict depends on the machine's load, so
// make test leaves them out) and, for the first, in every report:
//
//   - against the clock: a chain of dependent one-cycle integer adds gives
//     the core clock; a core with two 256-bit FMA pipes (Zen 3, Intel since
//     Haswell) does 32 f32 (16 f64) FLOP per cycle. The report prints
//     measured/expected (TestPeakAgreesWithClock requires 5%).
//   - against C: testdata/fmacheck.c, an FMA loop written with intrinsics,
//     compiled with gcc -O2 -mavx2 -mfma and run alternately with the probe
//     (TestPeakAgreesWithC requires 5%; skipped without gcc).
//
// "% peak" of a row is its GFLOP/s over the best FMA probe (any ISA level)
// of the same dtype and thread count, or its GB/s over the read bandwidth.
package bench
