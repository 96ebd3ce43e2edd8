package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/kernels"
)

// Main is the whole `nnkern bench` command: it parses args (without the
// command name), runs the selected cases and writes the report to stdout
// (progress lines to stderr). It returns the exit status: 0 on success,
// 1 when a case failed, 2 on a usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nnkern bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		filter    = fs.String("filter", "", "run only cases whose name matches this regular expression (see --list)")
		slow      = fs.Bool("slow", false, "also run the cases that take seconds per operation (gonum and generic native GEMM on 2048³)")
		dtype     = fs.String("dtype", "all", "element types: f32, f64 or all (comma-separated)")
		threads   = fs.String("threads", "1,all", "thread counts to run: 1, all (= the logical CPU count) or numbers, comma-separated (single-threaded kernels only have threads=1 cases)")
		budget    = fs.Duration("time", DefaultBudget, "timed duration per case after warm-up")
		jsonOut   = fs.Bool("json", false, "write the report as JSON")
		mdOut     = fs.Bool("markdown", false, "write Markdown tables (make bench-report puts them in docs/performance.md)")
		bsOut     = fs.Bool("benchstat", false, "write Go benchmark lines (one per sample) for benchstat")
		list      = fs.Bool("list", false, "list the selected cases and exit")
		smoke     = fs.Bool("smoke", false, "run every selected case once at a tiny size (checks that they run; not a measurement)")
		quiet     = fs.Bool("quiet", false, "no progress lines on stderr")
		minSample = fs.Int("samples", 5, "minimum timed samples per case")
		data      = fs.String("data", "", "run the data, loss and train cases on the data set at `PATH` (any format cifar.Load reads) instead of random CIFAR-shaped data")
		fromFile  = fs.String("report", "", "do not measure: render the JSON report in `FILE` (written by --json) in the chosen format")
		shapes    = fs.String("shape", "", "GEMM shapes `MxKxN` (comma-separated; C = op(A)·op(B) is MxN, K the inner size) instead of the built-in ones, e.g. 200x3072x200")
		ops       = fs.String("op", "NN", "transposes for --shape and --sizes: NN, TN, NT or TT (comma-separated)")
		sizes     = fs.String("sizes", "", "size sweep `FROM..TO` (powers of two, e.g. 64..4096): square GEMMs n×n×n for n = FROM, 2·FROM, …, TO (at most 16384); with a --filter that selects kernels (e.g. '^kernels/(Dot|Axpy)/'), also the level-1 kernels at vector length n")
		plotFile  = fs.String("plot", "", "also draw the rates against size as a roofline PNG in `FILE` (GFLOP/s or GB/s per backend and ISA, log2 size axis, the measured FMA and read-bandwidth peaks as lines); best with --sizes")
	)
	// -h prints the help on stdout in the layout of every nnkern command;
	// a bad flag is one line on stderr.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage: nnkern bench [flags]\n\nMeasures the peak probes, kernels, GEMM backends and models of nnkern on this machine.\n\nFlags:\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "nnkern bench: %v (see 'nnkern bench -h')\n", err)
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nnkern bench: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if err := kernels.EnvError(); err != nil {
		return usage("%v", err)
	}
	n := 0
	for _, b := range []bool{*jsonOut, *mdOut, *bsOut} {
		if b {
			n++
		}
	}
	if n > 1 {
		return usage("--json, --markdown and --benchstat exclude each other")
	}
	if *budget <= 0 {
		return usage("--time must be positive, got %v", *budget)
	}
	if *minSample < 1 {
		return usage("--samples must be at least 1, got %d", *minSample)
	}
	if *fromFile != "" {
		return render(*fromFile, *plotFile, *jsonOut, *mdOut, *bsOut, stdout, stderr)
	}
	if *data != "" {
		ds, err := cifar.Load(*data)
		if err != nil {
			fmt.Fprintf(stderr, "nnkern bench: --data %s: %v\n", *data, err)
			return 1
		}
		if err := SetData(*data, ds); err != nil {
			fmt.Fprintf(stderr, "nnkern bench: --data %s: %v\n", *data, err)
			return 1
		}
	}
	if *plotFile != "" && *smoke {
		return usage("--plot needs measured rates: a --smoke run has none")
	}
	o := Options{Budget: *budget, MinSamples: *minSample, Smoke: *smoke, Slow: *slow, Roofline: *plotFile != ""}
	if *filter != "" {
		re, err := regexp.Compile(*filter)
		if err != nil {
			return usage("--filter: %v", err)
		}
		o.Filter = re
	}
	if *shapes != "" || *sizes != "" {
		cs, err := customCases(*shapes, *ops, *sizes, o.Filter != nil)
		if err != nil {
			return usage("%v", err)
		}
		o.Cases = cs
	} else if *ops != "NN" {
		return usage("--op applies to --shape and --sizes")
	}
	dts, err := parseDTypes(*dtype)
	if err != nil {
		return usage("--dtype: %v", err)
	}
	o.DTypes = dts
	ths, err := parseThreads(*threads, runtime.NumCPU())
	if err != nil {
		return usage("--threads: %v", err)
	}
	o.Threads = ths
	o.Command = "nnkern bench " + strings.Join(args, " ")
	o.Command = strings.TrimSpace(o.Command)
	sel := Select(o)
	if *list {
		for _, c := range sel {
			fmt.Fprintln(stdout, c.Name())
		}
		return 0
	}
	if len(sel) == 0 {
		return usage("no case matches (try --list)")
	}
	if !*quiet {
		o.Progress = stderr
	}
	start := time.Now()
	rep, err := Run(o)
	if err != nil {
		fmt.Fprintf(stderr, "nnkern bench: %v\n", err)
		return 1
	}
	if o.Progress != nil {
		fmt.Fprintf(stderr, "nnkern bench: %d cases in %.1fs\n", len(rep.Results), time.Since(start).Seconds())
	}
	if err := write(rep, *jsonOut, *mdOut, *bsOut, stdout); err != nil {
		fmt.Fprintf(stderr, "nnkern bench: writing the report: %v\n", err)
		return 1
	}
	if *plotFile != "" {
		if err := WritePlotFile(*plotFile, rep); err != nil {
			fmt.Fprintf(stderr, "nnkern bench: --plot %s: %v\n", *plotFile, err)
			return 1
		}
	}
	failed := 0
	for _, r := range rep.Results {
		if r.Error != "" {
			failed++
			fmt.Fprintf(stderr, "nnkern bench: case %s failed: %s\n", r.Name, r.Error)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func write(rep *Report, jsonOut, mdOut, bsOut bool, w io.Writer) error {
	switch {
	case jsonOut:
		return WriteJSON(w, rep)
	case mdOut:
		return WriteMarkdown(w, rep)
	case bsOut:
		return WriteBenchstat(w, rep)
	}
	return WriteText(w, rep)
}

// render writes a saved JSON report in another format.
func render(path, plotFile string, jsonOut, mdOut, bsOut bool, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "nnkern bench: --report: %v\n", err)
		return 1
	}
	defer f.Close()
	rep, err := ReadJSON(f)
	if err != nil {
		fmt.Fprintf(stderr, "nnkern bench: --report %s: %v\n", path, err)
		return 1
	}
	if err := write(rep, jsonOut, mdOut, bsOut, stdout); err != nil {
		fmt.Fprintf(stderr, "nnkern bench: writing the report: %v\n", err)
		return 1
	}
	if plotFile != "" {
		if err := WritePlotFile(plotFile, rep); err != nil {
			fmt.Fprintf(stderr, "nnkern bench: --plot %s: %v\n", plotFile, err)
			return 1
		}
	}
	return 0
}

func parseDTypes(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(strings.ToLower(f)); f {
		case "all", "":
			return nil, nil
		case "f32", "float32":
			out = append(out, "f32")
		case "f64", "float64":
			out = append(out, "f64")
		default:
			return nil, fmt.Errorf("unknown dtype %q (want f32, f64 or all)", f)
		}
	}
	return out, nil
}

func parseThreads(s string, all int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		switch f {
		case "all", "max":
			out = append(out, all)
		case "":
			return nil, fmt.Errorf("empty thread count in %q", s)
		default:
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad thread count %q (want a positive number or all)", f)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// customCases builds the cases of --shape and --sizes: GEMMs of the given
// shapes and of the squares of the sweep, for every --op; the level-1
// kernels at the sweep's lengths when kernels is set (a --filter is given:
// it says whether they are wanted).
func customCases(shapes, ops, sizes string, kernels bool) ([]*Case, error) {
	var opList []string
	for _, op := range strings.Split(ops, ",") {
		op = strings.ToUpper(strings.TrimSpace(op))
		if _, err := NewGemmShape(op, 1, 1, 1); err != nil {
			return nil, fmt.Errorf("--op: %v", err)
		}
		opList = append(opList, op)
	}
	var gs []GemmShape
	seen := map[GemmShape]bool{}
	add := func(op string, m, k, n int) error {
		g, err := NewGemmShape(op, m, k, n)
		if err != nil {
			return err
		}
		if !seen[g] {
			seen[g] = true
			gs = append(gs, g)
		}
		return nil
	}
	if shapes != "" {
		for _, f := range strings.Split(shapes, ",") {
			m, k, n, err := parseShape(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("--shape: %v", err)
			}
			for _, op := range opList {
				if err := add(op, m, k, n); err != nil {
					return nil, fmt.Errorf("--shape: %v", err)
				}
			}
		}
	}
	var ns []int
	if sizes != "" {
		var err error
		if ns, err = parseSizes(sizes); err != nil {
			return nil, fmt.Errorf("--sizes: %v", err)
		}
		if !kernels && ns[len(ns)-1] > maxGemmSweep {
			return nil, fmt.Errorf("%q: GEMMs above %d are refused (three %d² float64 matrices take %d GiB); longer vectors need a --filter that selects kernels", sizes, maxGemmSweep, maxGemmSweep, 3*maxGemmSweep*maxGemmSweep*8>>30)
		}
		for _, n := range ns {
			if n > maxGemmSweep {
				break
			}
			for _, op := range opList {
				if err := add(op, n, n, n); err != nil {
					return nil, fmt.Errorf("--sizes: %v", err)
				}
			}
		}
	}
	cs := GemmCases(gs...)
	if kernels {
		for _, n := range ns {
			cs = append(cs, VectorKernelCases(n)...)
		}
	}
	return cs, nil
}

// parseShape parses "MxKxN".
func parseShape(s string) (m, k, n int, err error) {
	f := strings.Split(strings.ToLower(s), "x")
	if len(f) != 3 {
		return 0, 0, 0, fmt.Errorf("%q: want MxKxN, e.g. 200x3072x200", s)
	}
	var v [3]int
	for i, x := range f {
		if v[i], err = strconv.Atoi(x); err != nil || v[i] < 1 {
			return 0, 0, 0, fmt.Errorf("%q: sizes must be positive integers", s)
		}
	}
	return v[0], v[1], v[2], nil
}

// maxSweep bounds a sweep's vector lengths, maxGemmSweep its GEMM sizes.
const (
	maxSweep     = 1 << 24
	maxGemmSweep = 1 << 14
)

// parseSizes parses "FROM..TO" (or one size) into FROM, 2·FROM, …, TO,
// both powers of two.
func parseSizes(s string) ([]int, error) {
	from, to, ok := strings.Cut(s, "..")
	if !ok {
		to = from
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(from))
	b, err2 := strconv.Atoi(strings.TrimSpace(to))
	pow2 := func(x int) bool { return x > 0 && x&(x-1) == 0 }
	if err1 != nil || err2 != nil || !pow2(a) || !pow2(b) {
		return nil, fmt.Errorf("%q: want FROM..TO, both powers of two (e.g. 64..4096)", s)
	}
	if a > b || b > maxSweep {
		return nil, fmt.Errorf("%q: want FROM ≤ TO ≤ %d", s, maxSweep)
	}
	var ns []int
	for n := a; n <= b; n *= 2 {
		ns = append(ns, n)
	}
	return ns, nil
}
