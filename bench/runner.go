package bench

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/nnkern/nnkern/kernels"
)

// Options select and time the cases of a Run.
type Options struct {
	// Filter keeps the cases whose Name matches (nil: all).
	Filter *regexp.Regexp
	// Slow includes the cases marked Slow.
	Slow bool
	// DTypes keeps cases of these dtypes ("f32", "f64"); cases without a
	// dtype always stay. Empty: all.
	DTypes []string
	// Threads keeps cases of these thread counts. Empty: all.
	Threads []int
	// Budget is the timed duration per case (after warm-up); the runner
	// stops sampling once it is spent and MinSamples were taken.
	// Zero means DefaultBudget.
	Budget time.Duration
	// MinSamples is the least number of timed samples per case (default
	// 5; a case may ask for fewer).
	MinSamples int
	// MaxSamples caps the samples per case (default 100).
	MaxSamples int
	// Smoke runs every case once at its tiny size (one warm-up call and
	// one timed sample): a check that everything runs, not a measurement.
	Smoke bool
	// Progress, if non-nil, receives one line per finished case.
	Progress io.Writer
	// Command is recorded in the report (how to reproduce it).
	Command string
	// Roofline also measures the peaks a roofline plot of the rows draws
	// (WritePlot): the read bandwidth for kernel rows, whatever their
	// "% peak" refers to.
	Roofline bool
	// Cases, if non-nil, are the cases to select from instead of the
	// registered ones (e.g. GemmCases of other shapes); the peak probes
	// the rows need still come from the registry.
	Cases []*Case
}

// DefaultBudget is the default timed duration per case.
const DefaultBudget = 250 * time.Millisecond

// Result is one measured row.
type Result struct {
	// Name is the row's benchmark name; Family, Op, DType, Impl, ISA
	// (the level actually dispatched), Threads and Shape identify the row.
	Name    string `json:"name"`
	Family  string `json:"family"`
	Op      string `json:"op"`
	DType   string `json:"dtype,omitempty"`
	Impl    string `json:"impl"`
	ISA     string `json:"isa"`
	Threads int    `json:"threads"`
	Shape   string `json:"shape,omitempty"`
	// FLOPs and Bytes per operation as the case declares them.
	FLOPs  float64 `json:"flops_per_op,omitempty"`
	Bytes  float64 `json:"bytes_per_op,omitempty"`
	Cycles float64 `json:"cycles_per_op,omitempty"`
	// Iters is the number of operations of each timed sample; SamplesNs
	// the per-operation time of each sample.
	Iters     []int     `json:"iters"`
	SamplesNs []float64 `json:"samples_ns"`
	Stats
	// GFLOPS and GBPS are computed from the median (0 when the case has no
	// FLOP or byte count); GHz only for the clock probe.
	GFLOPS float64 `json:"gflops,omitempty"`
	GBPS   float64 `json:"gbps,omitempty"`
	GHz    float64 `json:"ghz,omitempty"`
	// Peak names the peak PeakPct refers to ("fma" or "read"), PeakValue
	// its value (GFLOP/s or GB/s) and PeakPct this row's percentage of it.
	Peak      string  `json:"peak,omitempty"`
	PeakValue float64 `json:"peak_value,omitempty"`
	PeakPct   float64 `json:"peak_pct,omitempty"`
	// SpeedUp is the headline speed-up, against SpeedUpVs (the first of
	// the case's Compare variants that was measured): its median over
	// this row's. Ratios holds the speed-up against every Compare variant
	// measured.
	SpeedUp   float64            `json:"speedup,omitempty"`
	SpeedUpVs string             `json:"speedup_vs,omitempty"`
	Ratios    map[string]float64 `json:"ratios,omitempty"`
	// Error is set when the case failed to set up or run.
	Error string `json:"error,omitempty"`

	compare []string
	peak    PeakKind
	group   string
}

// Variant is "impl/isa", the name Compare lists refer to.
func (r *Result) Variant() string { return r.Impl + "/" + r.ISA }

// PeakFigure is one measured peak. Value is the rate of the fastest sample
// (a peak is a limit; on a shared machine slower samples are ones another
// process interrupted), Median the rate at the median sample.
type PeakFigure struct {
	// Kind, DType, ISA and Threads say what was probed; Unit is Value's
	// and Median's unit; Samples the number of timed samples.
	Kind    string  `json:"kind"` // "fma", "read", "copy", "clock"
	DType   string  `json:"dtype,omitempty"`
	ISA     string  `json:"isa,omitempty"`
	Threads int     `json:"threads"`
	Value   float64 `json:"value"`
	Median  float64 `json:"median"`
	Unit    string  `json:"unit"` // "GFLOP/s", "GB/s", "GHz"
	Samples int     `json:"samples"`
}

// PeakCheck compares the FMA probe with the independent estimate
// flops/cycle × the measured clock × threads.
type PeakCheck struct {
	// DType, ISA and Threads say which probe; ExpectedGFLOPS =
	// FLOPsPerCycle × ClockGHz × Threads, MeasuredGFLOPS the probe's.
	DType          string  `json:"dtype"`
	ISA            string  `json:"isa"`
	Threads        int     `json:"threads"`
	FLOPsPerCycle  float64 `json:"flops_per_cycle"`
	ClockGHz       float64 `json:"clock_ghz"`
	ExpectedGFLOPS float64 `json:"expected_gflops"`
	MeasuredGFLOPS float64 `json:"measured_gflops"`
	// Ratio is measured / expected.
	Ratio float64 `json:"ratio"`
}

// Report is the outcome of a Run.
type Report struct {
	// Schema identifies the JSON layout ("nnkern-bench/1").
	Schema string `json:"schema"`
	// Time is when the run started, Command the command line, Budget the
	// timed duration per case and Smoke whether it was a one-iteration
	// smoke run.
	Time    time.Time `json:"time"`
	Command string    `json:"command,omitempty"`
	Budget  string    `json:"budget"`
	Smoke   bool      `json:"smoke,omitempty"`
	// Data is what the model cases ran on (a path given to SetData, or a
	// description of the random data).
	Data string `json:"data"`
	// Machine is where the run took place, Peaks the measured peaks,
	// Checks the peak probe's independent checks, Results one per row.
	Machine Machine      `json:"machine"`
	Peaks   []PeakFigure `json:"peaks"`
	Checks  []PeakCheck  `json:"peak_checks,omitempty"`
	Results []Result     `json:"results"`
}

// SchemaVersion is the value of Report.Schema this package writes: the
// layout docs/bench.schema.json describes (its "version") and
// docs/bench-json.md explains. ReadJSON also reads nnkern-bench/1 (the
// same layout without machine.cores_from and machine.caches_from, whose
// physical_cores and caches came from cpuid).
const SchemaVersion = "nnkern-bench/2"

// Select returns the registered cases Options keep, in registry order.
func Select(o Options) []*Case {
	var out []*Case
	from := o.Cases
	if from == nil {
		from = Cases()
	}
	for _, c := range from {
		if keepCase(c, o) {
			out = append(out, c)
		}
	}
	return out
}

func keepCase(c *Case, o Options) bool {
	if o.Filter != nil && !o.Filter.MatchString(c.Name()) {
		return false
	}
	if c.Slow && !o.Slow {
		return false
	}
	if c.DType != "" && len(o.DTypes) > 0 && !contains(o.DTypes, c.DType) {
		return false
	}
	if len(o.Threads) > 0 {
		ok := false
		for _, t := range o.Threads {
			ok = ok || t == c.Threads
		}
		if !ok {
			return false
		}
	}
	return true
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Run measures the selected cases and returns the report. Peak probes the
// selected rows need for their "% of peak" run as well (their figures go to
// Report.Peaks; they appear as rows only if selected).
func Run(o Options) (*Report, error) {
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.MinSamples <= 0 {
		o.MinSamples = 5
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = 100
	}
	if o.MaxSamples < o.MinSamples {
		o.MaxSamples = o.MinSamples
	}
	sel := Select(o)
	rep := &Report{
		Schema:  SchemaVersion,
		Time:    time.Now().UTC().Truncate(time.Second),
		Command: o.Command,
		Budget:  o.Budget.String(),
		Smoke:   o.Smoke,
		Data:    dataName(),
		Machine: DescribeMachine(),
		Peaks:   []PeakFigure{},
	}
	selected := map[*Case]bool{}
	for _, c := range sel {
		selected[c] = true
	}
	// The peaks first: every peak case selected, plus the ones a selected
	// row needs for its percentage (and the clock for the check).
	needFMA := map[string]bool{} // dtype|threads
	needRead := map[int]bool{}
	for _, c := range sel {
		switch c.Peak {
		case PeakFMA:
			needFMA[fmt.Sprint(c.DType, "|", c.Threads)] = true
		case PeakRead:
			needRead[c.Threads] = true
		}
		if o.Roofline && c.Family == "kernels" {
			needRead[c.Threads] = true
		}
	}
	var peakRows []Result
	for _, c := range Cases() {
		if c.Family != "peak" {
			continue
		}
		need := selected[c]
		switch c.Op {
		case "fma":
			need = need || needFMA[fmt.Sprint(c.DType, "|", c.Threads)]
		case "read":
			need = need || needRead[c.Threads]
		case "clock":
			need = need || len(needFMA) > 0
		}
		if !need {
			continue
		}
		r := runCase(c, o)
		peakRows = append(peakRows, r)
		if selected[c] {
			rep.Results = append(rep.Results, r)
		}
	}
	if !o.Smoke {
		if ps, cs := peakFigures(peakRows); ps != nil {
			rep.Peaks, rep.Checks = ps, cs
		}
	}
	// The other cases, group by group (registry order of first appearance).
	var groups [][]*Case
	index := map[string]int{}
	for _, c := range sel {
		if c.Family == "peak" {
			continue
		}
		g, ok := index[c.group()]
		if !ok {
			g = len(groups)
			index[c.group()] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], c)
	}
	for _, g := range groups {
		rep.Results = append(rep.Results, runGroup(g, o)...)
	}
	finish(rep)
	return rep, nil
}

// runCase sets up and times one case.
func runCase(c *Case, o Options) Result { return runGroup([]*Case{c}, o)[0] }

// running is a case being measured.
type running struct {
	c          *Case
	op         Op
	r          Result
	n          int // operations per sample
	minS, maxS int
	spent      time.Duration
	done       bool
}

// enter applies the case's ISA level and thread count and returns the
// function that restores the previous ones.
func (x *running) enter() (leave func()) {
	prevProcs := runtime.GOMAXPROCS(x.c.Threads)
	restore := func() {}
	if x.c.Level != CurrentLevel {
		restore = kernels.SetISA(x.c.Level)
	}
	return func() {
		restore()
		runtime.GOMAXPROCS(prevProcs)
	}
}

func (x *running) fail(err error) {
	x.r.Error = err.Error()
	x.done = true
}

// prepare sets the case up, warms it up and sizes its samples.
func prepare(c *Case, o Options) *running {
	x := &running{c: c, r: Result{
		Name: c.Name(), Family: c.Family, Op: c.Op, DType: c.DType, Impl: c.Impl,
		Threads: c.Threads, Shape: c.Shape, FLOPs: c.FLOPs, Bytes: c.Bytes, Cycles: c.Cycles,
		ISA: kernels.ISA().String(), compare: c.Compare, peak: c.Peak, group: c.group(),
	}}
	if c.Level != CurrentLevel && c.Level > kernels.Detected() {
		x.fail(fmt.Errorf("ISA %s not available (detected %s)", c.Level, kernels.Detected()))
		return x
	}
	leave := x.enter()
	defer leave()
	op, err := safeSetup(c, o.Smoke)
	if err != nil {
		x.fail(err)
		return x
	}
	x.op = op
	t0 := time.Now()
	one := time.Duration(0)
	if !c.NoWarmup || o.Smoke {
		if err := safeRun(op.Run, 1); err != nil { // warm-up
			x.fail(err)
			return x
		}
		one = time.Since(t0)
	}
	if op.ISA != nil {
		x.r.ISA = op.ISA()
	} else {
		x.r.ISA = kernels.ISA().String()
	}
	x.minS, x.maxS = o.MinSamples, o.MaxSamples
	if c.MinSamples > 0 && c.MinSamples < x.minS {
		x.minS = c.MinSamples
	}
	// Calibrate: size samples to ~Budget/10 each. An operation that takes
	// that long already is timed by its warm-up; a shorter one once more.
	per := o.Budget / 10
	if one < per && !o.Smoke && !c.NoWarmup {
		t0 = time.Now()
		if err := safeRun(op.Run, 1); err != nil {
			x.fail(err)
			return x
		}
		one = time.Since(t0)
	}
	x.n = 1
	if one > 0 && one < per {
		x.n = int(per / one)
	}
	// Operations longer than a third of the budget: 3 samples suffice
	// for a median (the budget is what the user asked to spend).
	if one > o.Budget/3 && x.minS > 3 {
		x.minS = 3
	}
	if c.ShortSamples {
		x.n = 1
		if x.minS < 20 {
			x.minS = 20
		}
		x.maxS = 5000
	}
	if o.Smoke {
		x.n, x.minS, x.maxS = 1, 1, 1
	}
	return x
}

// sample takes one timed sample.
func (x *running) sample(o Options) {
	leave := x.enter()
	defer leave()
	t := time.Now()
	if err := safeRun(x.op.Run, x.n); err != nil {
		x.fail(err)
		return
	}
	d := time.Since(t)
	x.spent += d
	x.r.Iters = append(x.r.Iters, x.n)
	x.r.SamplesNs = append(x.r.SamplesNs, float64(d.Nanoseconds())/float64(x.n))
	k := len(x.r.SamplesNs)
	x.done = k >= x.maxS || (k >= x.minS && x.spent >= o.Budget)
}

// finish computes the row's statistics and releases the case.
func (x *running) finish(o Options) Result {
	if x.op.Close != nil {
		leave := x.enter()
		x.op.Close()
		leave()
	}
	r := x.r
	r.Stats = Summarize(r.SamplesNs)
	if r.Error == "" && r.Median > 0 && !o.Smoke { // smoke sizes are not the declared ones
		if r.FLOPs > 0 {
			r.GFLOPS = r.FLOPs / r.Median
		}
		if r.Bytes > 0 {
			r.GBPS = r.Bytes / r.Median
		}
		if r.Cycles > 0 {
			r.GHz = r.Cycles / r.Median
		}
	}
	if o.Progress != nil {
		if r.Error != "" {
			fmt.Fprintf(o.Progress, "%-70s ERROR %s\n", r.Name, r.Error)
		} else {
			fmt.Fprintf(o.Progress, "%-70s %12s  ±%4.1f%%  %s\n", r.Name, fmtNs(r.Median), 100*r.IQRRel, rateString(&r))
		}
	}
	return r
}

// runGroup measures cases that compare with each other (same group)
// together: all are set up first, then their samples alternate (A B C A B
// C ...), so that a change in the machine's load hits every variant alike
// and the speed-ups between them hold.
func runGroup(cs []*Case, o Options) []Result {
	xs := make([]*running, len(cs))
	for i, c := range cs {
		xs[i] = prepare(c, o)
	}
	runtime.GC()
	for {
		active := false
		for _, x := range xs {
			if !x.done {
				active = true
				x.sample(o)
			}
		}
		if !active {
			break
		}
	}
	out := make([]Result, len(xs))
	for i, x := range xs {
		out[i] = x.finish(o)
	}
	return out
}

func safeSetup(c *Case, tiny bool) (op Op, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("setup panicked: %v\n%s", p, firstLines(string(debug.Stack()), 12))
		}
	}()
	op, err = c.Setup(tiny)
	if err == nil && op.Run == nil {
		err = fmt.Errorf("setup returned no Run function")
	}
	return op, err
}

func safeRun(run func(int), n int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panicked: %v\n%s", p, firstLines(string(debug.Stack()), 12))
		}
	}()
	run(n)
	return nil
}

func firstLines(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	if len(ls) > n {
		ls = ls[:n]
	}
	return strings.Join(ls, "\n")
}

// peakFigures extracts the peak figures and the clock checks from the
// peak probe rows.
func peakFigures(rows []Result) ([]PeakFigure, []PeakCheck) {
	var ps []PeakFigure
	var ghz float64
	for _, r := range rows {
		if r.Error != "" {
			continue
		}
		if r.Min <= 0 {
			continue
		}
		switch r.Op {
		case "fma":
			ps = append(ps, PeakFigure{Kind: "fma", DType: r.DType, ISA: r.ISA, Threads: r.Threads,
				Value: r.FLOPs / r.Min, Median: r.GFLOPS, Unit: "GFLOP/s", Samples: r.N})
		case "read", "copy":
			ps = append(ps, PeakFigure{Kind: r.Op, Threads: r.Threads, Value: r.Bytes / r.Min, Median: r.GBPS, Unit: "GB/s", Samples: r.N})
		case "clock":
			ghz = r.Cycles / r.Min
			ps = append(ps, PeakFigure{Kind: "clock", Threads: 1, Value: ghz, Median: r.GHz, Unit: "GHz", Samples: r.N})
		}
	}
	var cs []PeakCheck
	if ghz > 0 {
		for _, p := range ps {
			if p.Kind != "fma" {
				continue
			}
			l, err := kernels.ParseLevel(p.ISA)
			if err != nil {
				continue
			}
			fpc := flopsPerCycle(l, p.DType == "f64")
			if fpc == 0 {
				continue
			}
			exp := fpc * ghz * float64(p.Threads)
			cs = append(cs, PeakCheck{DType: p.DType, ISA: p.ISA, Threads: p.Threads, FLOPsPerCycle: fpc,
				ClockGHz: ghz, ExpectedGFLOPS: exp, MeasuredGFLOPS: p.Value, Ratio: p.Value / exp})
		}
	}
	return ps, cs
}

// finish fills the peak percentages and the speed-ups.
func finish(rep *Report) {
	if rep.Smoke {
		return
	}
	bestFMA := map[string]float64{} // dtype|threads -> best over ISA levels
	read := map[int]float64{}
	for _, p := range rep.Peaks {
		switch p.Kind {
		case "fma":
			k := fmt.Sprint(p.DType, "|", p.Threads)
			bestFMA[k] = math.Max(bestFMA[k], p.Value)
		case "read":
			read[p.Threads] = p.Value
		}
	}
	byGroup := map[string][]*Result{}
	for i := range rep.Results {
		r := &rep.Results[i]
		byGroup[r.group] = append(byGroup[r.group], r)
	}
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Error != "" || r.Median <= 0 {
			continue
		}
		switch r.peak {
		case PeakFMA:
			if v := bestFMA[fmt.Sprint(r.DType, "|", r.Threads)]; v > 0 && r.GFLOPS > 0 {
				r.Peak, r.PeakValue, r.PeakPct = "fma", v, 100*r.GFLOPS/v
			}
		case PeakRead:
			if v := read[r.Threads]; v > 0 && r.GBPS > 0 {
				r.Peak, r.PeakValue, r.PeakPct = "read", v, 100*r.GBPS/v
			}
		}
		for _, want := range r.compare {
			for _, o := range byGroup[r.group] {
				if o == r || o.Error != "" || o.Median <= 0 {
					continue
				}
				if want == o.Impl || want == o.Variant() {
					if r.Ratios == nil {
						r.Ratios = map[string]float64{}
					}
					if _, dup := r.Ratios[want]; dup {
						continue
					}
					r.Ratios[want] = o.Median / r.Median
					if r.SpeedUpVs == "" {
						r.SpeedUp, r.SpeedUpVs = o.Median/r.Median, want
					}
				}
			}
		}
	}
}

func fmtNs(ns float64) string {
	switch {
	case ns <= 0:
		return "-"
	case ns < 1e3:
		return fmt.Sprintf("%.1f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
	return fmt.Sprintf("%.3f s", ns/1e9)
}

func rateString(r *Result) string {
	var parts []string
	if r.GFLOPS > 0 {
		parts = append(parts, fmt.Sprintf("%.2f GFLOP/s", r.GFLOPS))
	}
	if r.GBPS > 0 {
		parts = append(parts, fmt.Sprintf("%.2f GB/s", r.GBPS))
	}
	if r.GHz > 0 {
		parts = append(parts, fmt.Sprintf("%.3f GHz", r.GHz))
	}
	return strings.Join(parts, "  ")
}
