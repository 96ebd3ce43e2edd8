// Package bench is nnkern's benchmark harness: a registry of cases (peak
// probes, kernels, GEMM backends, model losses and training runs), a runner
// that times them against a per-case budget, and reports as a text table,
// JSON, a Markdown table for the README and Go benchmark lines that
// benchstat reads.
//
// Every result row names the implementation and the ISA level that actually
// ran, and relates its throughput to the peak this machine measured in the
// same process: FMA throughput from assembly loops with independent
// accumulator chains (peak_amd64.s, generated with avo from bench/_gen) and
// streaming-read bandwidth.
//
// The command `nnkern bench` is a thin front for [Main]:
//
//	nnkern bench --filter gemm --json > gemm.json
//	nnkern bench --markdown              # the README performance table
//	nnkern bench --benchstat > old.txt   # compare two machines or commits with benchstat
//
// Other programs can embed the harness:
//
//	rep, err := bench.Run(bench.Options{Filter: regexp.MustCompile("^gemm/"), Budget: time.Second})
//	if err != nil { ... }
//	bench.WriteMarkdown(os.Stdout, rep)
package bench
