package bench

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/nnkern/nnkern/kernels"
)

// smallReport measures a few cheap cases for real (short budget).
func smallReport(t *testing.T) *Report {
	t.Helper()
	rep, err := Run(Options{
		Filter:     regexp.MustCompile(`^kernels/(Dot|Exp)/f32/|^peak/clock`),
		Budget:     5e6, // 5 ms
		MinSamples: 3,
		Command:    "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.Name, r.Error)
		}
	}
	return rep
}

func TestJSONRoundTrip(t *testing.T) {
	rep := smallReport(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// Unexported bookkeeping does not travel; compare the exported view.
	want := *rep
	want.Results = append([]Result(nil), rep.Results...)
	for i := range want.Results {
		want.Results[i].compare, want.Results[i].peak, want.Results[i].group = nil, 0, ""
	}
	if !reflect.DeepEqual(got.Results, want.Results) {
		t.Errorf("results differ after the round trip:\n got %+v\nwant %+v", got.Results[0], want.Results[0])
	}
	if !got.Time.Equal(rep.Time) || !reflect.DeepEqual(got.Machine, rep.Machine) || !reflect.DeepEqual(got.Peaks, rep.Peaks) ||
		!reflect.DeepEqual(got.Checks, rep.Checks) || got.Schema != rep.Schema || got.Budget != rep.Budget {
		t.Errorf("report header differs after the round trip")
	}
}

func TestJSONRequiredFields(t *testing.T) {
	rep := smallReport(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "time", "budget", "machine", "peaks", "results"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	mach := m["machine"].(map[string]any)
	for _, k := range []string{"cpu", "vendor", "family", "model", "logical_cpus", "cache_line", "l1d", "l2", "l3",
		"features", "isa", "isa_detected", "isa_levels", "go_version", "goos", "goarch", "gomaxprocs", "nnkern_version"} {
		if _, ok := mach[k]; !ok {
			t.Errorf("machine lacks %q", k)
		}
	}
	if s, _ := mach["cpu"].(string); s == "" {
		t.Error("machine.cpu is empty")
	}
	res := m["results"].([]any)
	for _, x := range res {
		r := x.(map[string]any)
		for _, k := range []string{"name", "family", "op", "impl", "isa", "threads", "iters", "samples_ns",
			"samples", "median_ns", "min_ns", "max_ns", "q1_ns", "q3_ns", "iqr_rel", "range_rel"} {
			if _, ok := r[k]; !ok {
				t.Errorf("result %v lacks %q", r["name"], k)
			}
		}
	}
	// Throughput and comparisons where the cases define them.
	var sawGFLOPS, sawSpeedup, sawGHz bool
	for _, r := range rep.Results {
		sawGFLOPS = sawGFLOPS || (r.Op == "Dot" && r.GFLOPS > 0 && r.PeakPct > 0)
		sawSpeedup = sawSpeedup || (r.Op == "Exp" && r.Impl == "nnkern" && r.Ratios["math"] > 0)
		sawGHz = sawGHz || r.GHz > 0
	}
	if clockTrip == 0 {
		sawGHz = true // no clock probe without assembly (purego)
	}
	if !sawGFLOPS || !sawSpeedup || !sawGHz {
		t.Errorf("missing derived figures: Dot GFLOP/s+%%peak %v, Exp speed-up vs math %v, clock GHz %v", sawGFLOPS, sawSpeedup, sawGHz)
	}

	// Validation rejects what is missing.
	bad := *rep
	bad.Machine.CPU = ""
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "machine.cpu") {
		t.Errorf("Validate without cpu: %v", err)
	}
	bad = *rep
	bad.Schema = "other/9"
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted a foreign schema")
	}
	bad = *rep
	bad.Results = append([]Result(nil), rep.Results...)
	bad.Results[0].SamplesNs = nil
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted a result without samples")
	}
	if _, err := ReadJSON(strings.NewReader(`{"schema":"nnkern-bench/1"}`)); err == nil {
		t.Error("ReadJSON accepted an empty report")
	}
}

// The Go benchmark format (golang.org/design/14313-benchmark-format):
// configuration lines "key: value" with a key that starts with a lower-case
// letter and has neither spaces nor upper-case letters; benchmark lines
// "Benchmark<Name> <iterations> (<value> <unit>)+" where the name continues
// with a character that is not a lower-case letter.
var (
	configLine = regexp.MustCompile(`^([^\s:]+): (.*)$`)
	benchLine  = regexp.MustCompile(`^(Benchmark[^\s]*)\t(\d+)((?:\t[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)? [^\s]+)+)$`)
	valueUnit  = regexp.MustCompile(`\t([^\s]+) ([^\s]+)`)
	procSuffix = regexp.MustCompile(`-\d+$`)
)

func TestBenchstatFormat(t *testing.T) {
	rep := smallReport(t)
	var buf bytes.Buffer
	if err := WriteBenchstat(&buf, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	perName := map[string][]float64{}
	keys := map[string]bool{}
	for _, l := range lines {
		if m := benchLine.FindStringSubmatch(l); m != nil {
			name := m[1]
			if rest := strings.TrimPrefix(name, "Benchmark"); rest == "" || unicode.IsLower([]rune(rest)[0]) {
				t.Errorf("bad benchmark name %q", name)
			}
			if m := procSuffix.FindString(name); m != "" && !strings.HasSuffix(strings.TrimSuffix(name, m), "threads="+m[1:]+"/"+shapeOf(name)) {
				t.Errorf("name %q: its GOMAXPROCS suffix is not its thread count", name)
			}
			if n, err := strconv.Atoi(m[2]); err != nil || n < 1 {
				t.Errorf("bad iteration count in %q", l)
			}
			units := map[string]float64{}
			for _, vu := range valueUnit.FindAllStringSubmatch(m[3], -1) {
				v, err := strconv.ParseFloat(vu[1], 64)
				if err != nil || v <= 0 {
					t.Errorf("bad value %q in %q", vu[1], l)
				}
				units[vu[2]] = v
			}
			ns, ok := units["ns/op"]
			if !ok {
				t.Errorf("no ns/op in %q", l)
			}
			perName[name] = append(perName[name], ns)
			continue
		}
		m := configLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line is neither a benchmark nor a configuration line: %q", l)
			continue
		}
		k := m[1]
		if !unicode.IsLower([]rune(k)[0]) || strings.IndexFunc(k, unicode.IsUpper) >= 0 {
			t.Errorf("bad configuration key %q", k)
		}
		keys[k] = true
	}
	for _, k := range []string{"goos", "goarch", "pkg", "cpu", "isa", "nnkern-version"} {
		if !keys[k] {
			t.Errorf("no %q configuration line", k)
		}
	}
	// One line per sample, the samples' ns/op (to 4 significant digits).
	for _, r := range rep.Results {
		got := perName[BenchName(&r)]
		if len(got) != len(r.SamplesNs) {
			t.Errorf("%s: %d lines, want %d", r.Name, len(got), len(r.SamplesNs))
			continue
		}
		for i, v := range got {
			if d := v/r.SamplesNs[i] - 1; d > 1e-3 || d < -1e-3 {
				t.Errorf("%s sample %d: %v ns/op, want %v", r.Name, i, v, r.SamplesNs[i])
			}
		}
	}
}

// shapeOf is the last part of a benchmark name, without the suffix.
func shapeOf(name string) string {
	name = procSuffix.ReplaceAllString(name, "")
	return name[strings.LastIndexByte(name, '/')+1:]
}

func TestBenchName(t *testing.T) {
	r := Result{Family: "gemm", Op: "NN", DType: "f32", Impl: "native", ISA: "avx2", Threads: 2, Shape: "200x3072x200"}
	if got, want := BenchName(&r), "BenchmarkGemm/NN/f32/native/isa=avx2/threads=2/200x3072x200-2"; got != want {
		t.Errorf("BenchName = %q, want %q", got, want)
	}
	r = Result{Family: "kernels", Op: "Dot", DType: "f64", Impl: "nnkern", ISA: "generic", Threads: 1, Shape: "n=3072"}
	if got, want := BenchName(&r), "BenchmarkKernels/Dot/f64/nnkern/isa=generic/threads=1/n=3072"; got != want {
		t.Errorf("BenchName = %q, want %q", got, want)
	}
	// Up to the suffix, the name is the case name of a case run at its
	// level (isa= in both).
	for _, c := range Cases() {
		if c.Level == CurrentLevel {
			continue
		}
		r := Result{Family: c.Family, Op: c.Op, DType: c.DType, Impl: c.Impl, ISA: c.Level.String(), Threads: c.Threads, Shape: c.Shape}
		got := strings.TrimPrefix(procSuffix.ReplaceAllString(BenchName(&r), ""), "Benchmark")
		if got = strings.ToLower(got[:1]) + got[1:]; got != c.Name() {
			t.Errorf("BenchName of %s without Benchmark and suffix: %s", c.Name(), got)
		}
	}
}

// A smoke run's benchstat lines carry no rates (its sizes are not the
// declared ones) and its header says it is not a measurement.
func TestBenchstatSmokeNoRates(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--smoke", "--benchstat", "--quiet", "--filter", "^(gemm/NN/f32/native|kernels/Dot/f32)/", "--threads", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	if !strings.Contains(s, "smoke: ") || !strings.Contains(s, "BenchmarkGemm/NN/f32/native/isa=") {
		t.Errorf("smoke benchstat output:\n%s", s)
	}
	for _, u := range []string{"GFLOP/s", "GB/s", "GHz"} {
		if strings.Contains(s, u) {
			t.Errorf("smoke benchstat output has a rate (%s):\n%s", u, s)
		}
	}
}

func TestMarkdownAndText(t *testing.T) {
	rep := smallReport(t)
	var md, txt bytes.Buffer
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&txt, rep); err != nil {
		t.Fatal(err)
	}
	wants := []string{rep.Machine.CPU, "| op | shape |", "| Dot | n=3072 | f32 | nnkern |"}
	if asmProbes && kernels.Detected() >= kernels.AVX2 {
		wants = append(wants, "Independent check")
	}
	for _, want := range wants {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	for _, r := range rep.Results {
		if !strings.Contains(txt.String(), r.Name) {
			t.Errorf("text lacks %s", r.Name)
		}
	}
}
