package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(rep)
}

// ReadJSON decodes a report written by WriteJSON and checks its schema and
// required fields.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("bench report: %w", err)
	}
	if err := rep.Validate(); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Validate checks the fields every report must carry.
func (rep *Report) Validate() error {
	var missing []string
	if rep.Schema != SchemaVersion && rep.Schema != "nnkern-bench/1" {
		return fmt.Errorf("bench report: schema %q, want %q", rep.Schema, SchemaVersion)
	}
	m := rep.Machine
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"time", !rep.Time.IsZero()},
		{"machine.cpu", m.CPU != ""},
		{"machine.isa", m.ISA != ""},
		{"machine.isa_levels", len(m.Levels) > 0},
		{"machine.go_version", m.GoVersion != ""},
		{"machine.nnkern_version", m.NNKernVersion != ""},
		{"machine.gomaxprocs", m.GOMAXPROCS > 0},
		{"machine.logical_cpus", m.LogicalCPUs > 0},
	} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	for i, r := range rep.Results {
		if r.Name == "" || r.Family == "" || r.Impl == "" || r.ISA == "" || r.Threads < 1 {
			missing = append(missing, fmt.Sprintf("results[%d] name/family/impl/isa/threads", i))
		}
		if r.Error == "" && (r.N == 0 || len(r.SamplesNs) != r.N || len(r.Iters) != r.N || r.Median <= 0) {
			missing = append(missing, fmt.Sprintf("results[%d] (%s) samples", i, r.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("bench report: missing or invalid: %s", strings.Join(missing, ", "))
	}
	return nil
}

// WriteText writes the human-readable table (the default output).
func WriteText(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	writeHeader(bw, rep, "")
	tw := tabwriter.NewWriter(bw, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tISA\tmedian\tmin\tIQR\tGFLOP/s\tGB/s\t% peak\tspeed-up\t")
	for _, r := range rep.Results {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tERROR: %s\t\t\t\t\t\t\t\n", r.Name, r.ISA, oneLine(r.Error))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.ISA, fmtNs(r.Median), fmtNs(r.Min),
			pct(r.IQRRel*100), num(r.GFLOPS), num(r.GBPS), pct(r.PeakPct), speedup(&r))
	}
	tw.Flush()
	return bw.Flush()
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func writeHeader(w io.Writer, rep *Report, prefix string) {
	m := rep.Machine
	fmt.Fprintf(w, "%sCPU: %s (%s family %d model %d", prefix, m.CPU, m.Vendor, m.Family, m.Model)
	if m.Hypervisor != "" {
		fmt.Fprintf(w, ", under %s", m.Hypervisor)
	}
	fmt.Fprintf(w, "), %d logical CPUs, L1d %s, L2 %s, L3 %s\n", m.LogicalCPUs, kib(m.L1D), kib(m.L2), kib(m.L3))
	fmt.Fprintf(w, "%sISA: %s (detected %s; levels %s); %s %s/%s, GOMAXPROCS %d; nnkern %s\n", prefix, m.ISA, m.Detected,
		strings.Join(m.Levels, ","), m.GoVersion, m.GOOS, m.GOARCH, m.GOMAXPROCS, m.NNKernVersion)
	fmt.Fprintf(w, "%s%s, budget %s per case", prefix, rep.Time.Format("2006-01-02 15:04 UTC"), rep.Budget)
	if rep.Smoke {
		fmt.Fprint(w, ", SMOKE RUN (tiny sizes, one sample: not a measurement)")
	}
	fmt.Fprintln(w)
	if rep.Data != "" {
		fmt.Fprintf(w, "%sModel data: %s\n", prefix, rep.Data)
	}
	if len(rep.Peaks) > 0 {
		fmt.Fprintf(w, "%sPeaks:", prefix)
		for _, p := range rep.Peaks {
			fmt.Fprintf(w, " %s", peakLabel(p))
		}
		fmt.Fprintln(w)
	}
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%sCheck: fma %s %s threads=%d measured %.1f GFLOP/s vs %g FLOP/cycle × %.3f GHz × %d = %.1f GFLOP/s: ratio %.3f\n",
			prefix, c.DType, c.ISA, c.Threads, c.MeasuredGFLOPS, c.FLOPsPerCycle, c.ClockGHz, c.Threads, c.ExpectedGFLOPS, c.Ratio)
	}
}

func peakLabel(p PeakFigure) string {
	var b strings.Builder
	b.WriteString(p.Kind)
	if p.DType != "" {
		b.WriteString("/" + p.DType)
	}
	if p.ISA != "" {
		b.WriteString("/" + p.ISA)
	}
	fmt.Fprintf(&b, "/t%d=%.4g %s", p.Threads, p.Value, p.Unit)
	return b.String()
}

func kib(n int) string {
	switch {
	case n <= 0:
		return "?"
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func num(v float64) string {
	switch {
	case v <= 0:
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func pct(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", v)
}

// speedup lists the row's speed-ups, the headline first, then the other
// compared variants (in the case's order, or sorted after a JSON round
// trip).
func speedup(r *Result) string {
	if r.SpeedUpVs == "" {
		return "-"
	}
	parts := []string{fmt.Sprintf("%.2f× vs %s", r.SpeedUp, r.SpeedUpVs)}
	order := r.compare
	if order == nil {
		for k := range r.Ratios {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	for _, k := range order {
		if v, ok := r.Ratios[k]; ok && k != r.SpeedUpVs {
			parts = append(parts, fmt.Sprintf("%.2f× vs %s", v, k))
		}
	}
	return strings.Join(parts, ", ")
}

// WriteMarkdown writes the Markdown report (make bench-report puts it in
// docs/performance.md): the machine, the peaks and their independent
// check, then one table per family.
func WriteMarkdown(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	m := rep.Machine
	fmt.Fprintf(bw, "Measured with `%s` on %s (%s family %d model %d, %d logical CPUs",
		orDefault(rep.Command, "nnkern bench --markdown"), m.CPU, m.Vendor, m.Family, m.Model, m.LogicalCPUs)
	if m.Hypervisor != "" {
		fmt.Fprintf(bw, ", %s guest", m.Hypervisor)
	}
	fmt.Fprintf(bw, "; L1d %s, L2 %s, L3 %s; kernels ISA %s of %s), %s, nnkern %s, %s, budget %s per case.",
		kib(m.L1D), kib(m.L2), kib(m.L3), m.ISA, strings.Join(m.Levels, "/"), m.GoVersion, m.NNKernVersion,
		rep.Time.Format("2006-01-02 15:04 UTC"), rep.Budget)
	if rep.Smoke {
		fmt.Fprint(bw, " **Smoke run: tiny sizes, one sample; not a measurement.**")
	}
	fmt.Fprintf(bw, " Model cases on %s.", rep.Data)
	fmt.Fprintln(bw, "\n\nMedian time per operation, spread = interquartile range / median; % peak is of the best FMA probe (same dtype and threads) or of the streaming-read bandwidth, measured in the same run; speed-up is the median time of the named variant over this row's.")
	fmt.Fprintln(bw)
	if len(rep.Peaks) > 0 {
		fmt.Fprintln(bw, "| peak | dtype | ISA | threads | measured |")
		fmt.Fprintln(bw, "|---|---|---|--:|--:|")
		for _, p := range rep.Peaks {
			fmt.Fprintf(bw, "| %s | %s | %s | %d | %.4g %s |\n", p.Kind, orDash(p.DType), orDash(p.ISA), p.Threads, p.Value, p.Unit)
		}
		fmt.Fprintln(bw)
		for _, c := range rep.Checks {
			fmt.Fprintf(bw, "- Independent check, FMA %s %s, %d thread(s): %g FLOP/cycle × measured clock %.3f GHz × %d = %.1f GFLOP/s expected, %.1f measured (ratio %.3f).\n",
				c.DType, c.ISA, c.Threads, c.FLOPsPerCycle, c.ClockGHz, c.Threads, c.ExpectedGFLOPS, c.MeasuredGFLOPS, c.Ratio)
		}
		if len(rep.Checks) > 0 {
			fmt.Fprintln(bw)
		}
	}
	fams := map[string][]Result{}
	var order []string
	for _, r := range rep.Results {
		if r.Family == "peak" {
			continue
		}
		if _, ok := fams[r.Family]; !ok {
			order = append(order, r.Family)
		}
		fams[r.Family] = append(fams[r.Family], r)
	}
	for _, f := range order {
		fmt.Fprintf(bw, "**%s**\n\n", f)
		fmt.Fprintln(bw, "| op | shape | dtype | impl | ISA | threads | median | spread | GFLOP/s | GB/s | % peak | speed-up |")
		fmt.Fprintln(bw, "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|")
		for _, r := range fams[f] {
			if r.Error != "" {
				fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %d | error: %s | | | | | |\n", r.Op, r.Shape, orDash(r.DType), r.Impl, r.ISA, r.Threads, mdEscape(oneLine(r.Error)))
				continue
			}
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", r.Op, r.Shape, orDash(r.DType), r.Impl, r.ISA, r.Threads,
				fmtNs(r.Median), pct(r.IQRRel*100), num(r.GFLOPS), num(r.GBPS), pct(r.PeakPct), speedup(&r))
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// BenchName is the result's name in Go benchmark format: "Benchmark", the
// family capitalized, then the case name's other parts with the ISA that
// ran, and the "-T" suffix go test gives a benchmark run with GOMAXPROCS
// T > 1:
//
//	BenchmarkGemm/NN/f32/native/isa=avx2/threads=2/200x3072x200-2
//
// which is what `go test -bench Gemm -cpu 2 ./blas` names the same product
// (BenchmarkGemm in package blas follows this scheme), so benchstat puts
// the two side by side. Without "Benchmark" and with the family's first
// letter lowered, the name (up to the suffix) is the case name. Spaces
// become underscores.
func BenchName(r *Result) string {
	fam := []rune(r.Family)
	if len(fam) > 0 {
		fam[0] = unicode.ToUpper(fam[0])
	}
	parts := []string{"Benchmark" + sanitize(string(fam)), sanitize(r.Op)}
	if r.DType != "" {
		parts = append(parts, r.DType)
	}
	parts = append(parts, sanitize(r.Impl), "isa="+sanitize(r.ISA), fmt.Sprintf("threads=%d", r.Threads))
	if r.Shape != "" {
		parts = append(parts, sanitize(r.Shape))
	}
	name := strings.Join(parts, "/")
	if r.Threads > 1 {
		name += fmt.Sprintf("-%d", r.Threads)
	}
	return name
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, s)
}

// WriteBenchstat writes the report in the Go benchmark format, one line per
// timed sample (so benchstat sees the distribution), with configuration
// lines for the machine.
func WriteBenchstat(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	m := rep.Machine
	fmt.Fprintf(bw, "goos: %s\ngoarch: %s\npkg: github.com/nnkern/nnkern/bench\ncpu: %s\n", m.GOOS, m.GOARCH, m.CPU)
	fmt.Fprintf(bw, "isa: %s\nnnkern-version: %s\ngo-version: %s\ngomaxprocs: %d\n", m.ISA, m.NNKernVersion, m.GoVersion, m.GOMAXPROCS)
	if rep.Smoke {
		fmt.Fprintf(bw, "smoke: tiny sizes, one sample, not a measurement (no rates)\n")
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			continue
		}
		name := BenchName(&r)
		for i, ns := range r.SamplesNs {
			fmt.Fprintf(bw, "%s\t%d\t%.4g ns/op", name, r.Iters[i], ns)
			if rep.Smoke {
				// Tiny sizes: the declared FLOPs and bytes are not the
				// ones done, so no rate is printed.
				fmt.Fprintln(bw)
				continue
			}
			if r.FLOPs > 0 {
				fmt.Fprintf(bw, "\t%.4g GFLOP/s", r.FLOPs/ns)
			}
			if r.Bytes > 0 {
				fmt.Fprintf(bw, "\t%.4g GB/s", r.Bytes/ns)
			}
			if r.GHz > 0 {
				fmt.Fprintf(bw, "\t%.4g GHz", r.GHz*r.Median/ns)
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}
