package main

// Tests of --json: each command prints one JSON object on stdout whose
// fields agree with what the library says in this test process.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/bench"
	"github.com/nnkern/nnkern/kernels"
)

// decodeOne decodes stdout as exactly one JSON object into v, rejecting
// unknown fields (so the documented struct is the whole output).
func decodeOne(t *testing.T, what, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(stdout)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: not one JSON object: %v\n%s", what, err, stdout)
	}
	if dec.More() {
		t.Fatalf("%s: more than one JSON value on stdout:\n%s", what, stdout)
	}
}

func TestCPUInfoJSON(t *testing.T) {
	dir := t.TempDir()
	var ci cpuInfo
	decodeOne(t, "cpuinfo --json", mustRun(t, dir, []string{"NNKERN_ISA=generic"}, "cpuinfo", "--json").stdout, &ci)
	m := bench.DescribeMachine()
	if ci.CoresFrom != m.CoresFrom || ci.CachesFrom != m.CachesFrom {
		t.Errorf("cores_from %q caches_from %q, want %q %q (bench.DescribeMachine)", ci.CoresFrom, ci.CachesFrom, m.CoresFrom, m.CachesFrom)
	}
	if ci.PhysicalCores != m.PhysicalCores || ci.LogicalCPUs != m.LogicalCPUs || ci.NumCPU != runtime.NumCPU() {
		t.Errorf("cores: physical %d logical %d NumCPU %d, want %d %d %d (bench.DescribeMachine, runtime)",
			ci.PhysicalCores, ci.LogicalCPUs, ci.NumCPU, m.PhysicalCores, m.LogicalCPUs, runtime.NumCPU())
	}
	for _, c := range []struct {
		name string
		got  *int
		want int
	}{{"line", ci.Caches.Line, m.CacheLine}, {"l1d", ci.Caches.L1D, m.L1D}, {"l1i", ci.Caches.L1I, m.L1I}, {"l2", ci.Caches.L2, m.L2}, {"l3", ci.Caches.L3, m.L3}} {
		switch {
		case c.want <= 0 && c.got != nil:
			t.Errorf("caches.%s = %d, want null (unknown)", c.name, *c.got)
		case c.want > 0 && (c.got == nil || *c.got != c.want):
			t.Errorf("caches.%s = %v, want %d", c.name, c.got, c.want)
		}
	}
	// The binary is built without this test's build tags (a -tags purego
	// test run still runs an assembly build), so its detected level is the
	// best of its own levels, not this process's kernels.Detected().
	if len(ci.ISALevels) == 0 || ci.ISA != "generic" || ci.ISADetected != ci.ISALevels[0] {
		t.Errorf("isa %q detected %q levels %v, want generic (NNKERN_ISA) and the best (first) of the levels", ci.ISA, ci.ISADetected, ci.ISALevels)
	}
	if len(ci.Kernels) != len(kernels.Kernels()) {
		t.Errorf("kernels: %d entries, want %d", len(ci.Kernels), len(kernels.Kernels()))
	}
	for _, k := range kernels.Kernels() {
		if ci.Kernels[k] != "generic" {
			t.Errorf("kernels[%s] = %q under NNKERN_ISA=generic", k, ci.Kernels[k])
		}
	}
	if ci.GoVersion != runtime.Version() || ci.GOMAXPROCS <= 0 || ci.NNKernVersion == "" || ci.BLAS == "" {
		t.Errorf("go %q gomaxprocs %d nnkern %q blas %q", ci.GoVersion, ci.GOMAXPROCS, ci.NNKernVersion, ci.BLAS)
	}
}

// TestEvalJSON: eval --json agrees with itself (rows of the confusion
// matrix sum to the per-class counts, its diagonal to the accuracy) and
// with the text output; without --data and NNKERN_DATA, eval of a model in
// its run directory takes the data path from the run's config.json.
func TestEvalJSON(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	out := filepath.Join(dir, "net")
	mustRun(t, dir, nil, smallArgs("softmax", data, out)...)
	model := filepath.Join(out, modelFile)
	var r evalResult
	decodeOne(t, "eval --json", mustRun(t, dir, nil, "eval", model, "--data", data, "--png", "-", "--json").stdout, &r)
	if r.Model != model || r.Data != data || r.DataFrom != "flag" || r.Split != "test" || r.Kind != "softmax" || r.PNG != "" {
		t.Errorf("eval --json header: %+v", r)
	}
	if len(r.Confusion) != 10 || len(r.PerClass) != 10 || len(r.Classes) != 10 {
		t.Fatalf("eval --json: %d confusion rows, %d per-class entries, %d classes; want 10", len(r.Confusion), len(r.PerClass), len(r.Classes))
	}
	total, diag := 0, 0
	for k, row := range r.Confusion {
		n := 0
		for _, v := range row {
			n += v
		}
		pc := r.PerClass[k]
		if pc.Images != n || pc.Class != r.Classes[k] {
			t.Errorf("class %d: per_class %+v, confusion row sums to %d", k, pc, n)
		}
		if (n == 0) != (pc.Accuracy == nil) || (n > 0 && *pc.Accuracy != float64(row[k])/float64(n)) {
			t.Errorf("class %d: accuracy %v, confusion gives %d/%d", k, pc.Accuracy, row[k], n)
		}
		total += n
		diag += row[k]
	}
	if total != r.Images || r.Accuracy != float64(diag)/float64(total) {
		t.Errorf("images %d accuracy %v; confusion: %d of %d", r.Images, r.Accuracy, diag, total)
	}
	text := mustRun(t, dir, nil, "eval", model, "--data", data, "--png", "-").stdout
	if want := fmt.Sprintf("accuracy: %.4f\n", r.Accuracy); !strings.Contains(text, want) {
		t.Errorf("text output lacks %q:\n%s", want, text)
	}

	// No --data, no NNKERN_DATA (the helper clears it): config.json's path.
	var fb evalResult
	decodeOne(t, "eval --json without --data", mustRun(t, dir, nil, "eval", model, "--png", "-", "--json").stdout, &fb)
	if fb.DataFrom != "config.json" || fb.Data != data || fb.Accuracy != r.Accuracy {
		t.Errorf("eval without --data: data %q from %q accuracy %v, want %q from config.json accuracy %v", fb.Data, fb.DataFrom, fb.Accuracy, data, r.Accuracy)
	}
	if got := mustRun(t, dir, nil, "eval", model, "--png", "-").stdout; !strings.HasPrefix(got, "data from the run's config.json: "+data+"\n") {
		t.Errorf("eval without --data does not say where the data came from:\n%s", got)
	}
	// A model outside a run directory still asks for --data.
	lone := filepath.Join(dir, "lone.npz")
	b, _ := os.ReadFile(model)
	os.WriteFile(lone, b, 0o644)
	checkOneLine(t, nnkern(t, dir, nil, "eval", lone, "--png", "-"), 1, "--data", nil)
}

// idxLabelCounts counts the labels of a gzip-compressed IDX label file.
func idxLabelCounts(t *testing.T, path string) []int {
	t.Helper()
	zf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	c := make([]int, 10)
	for _, l := range raw[8:] {
		c[l]++
	}
	return c
}

// TestDataInfoJSON: data info --json counts what the IDX files hold, and
// --data, the positional PATH and NNKERN_DATA name the same dataset.
func TestDataInfoJSON(t *testing.T) {
	dir := t.TempDir()
	data := synthData(t, dir, 400, 60)
	var info dataInfo
	decodeOne(t, "data info --json", mustRun(t, dir, nil, "data", "info", "--data", data, "--json").stdout, &info)
	tr := idxLabelCounts(t, filepath.Join(data, "train-labels-idx1-ubyte.gz"))
	te := idxLabelCounts(t, filepath.Join(data, "t10k-labels-idx1-ubyte.gz"))
	if info.Path != data || info.Height != side || info.Width != side || info.Channels != 1 || info.Train != 400 || info.Test != 60 ||
		len(info.Classes) != 10 || info.File != nil || len(info.ContentSHA256) != 64 {
		t.Errorf("data info --json: %+v", info)
	}
	for i, c := range info.Classes {
		if i < 10 && (c.Index != i || c.Train != tr[i] || c.Test != te[i]) {
			t.Errorf("class %d: %+v, the IDX files hold %d train and %d test images", i, c, tr[i], te[i])
		}
	}
	text := mustRun(t, dir, nil, "data", "info", "--data", data).stdout
	if got := mustRun(t, dir, nil, "data", "info", data).stdout; got != text {
		t.Errorf("data info PATH:\n%s\nwant, as with --data:\n%s", got, text)
	}
	if got := mustRun(t, dir, []string{"NNKERN_DATA=" + data}, "data", "info").stdout; got != text {
		t.Errorf("data info with NNKERN_DATA:\n%s\nwant, as with --data:\n%s", got, text)
	}
	checkOneLine(t, nnkern(t, dir, nil, "data", "info", "--data", data, data), 2, "one dataset", nil)
	if !strings.Contains(text, info.ContentSHA256) {
		t.Errorf("text output lacks the JSON's content sha256 %s", info.ContentSHA256)
	}
}

// TestJSONFieldsDocumented: every JSON field of the --json outputs is
// named in docs/cli-json.md.
func TestJSONFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Array {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !bytes.Contains(doc, []byte("`"+name+"`")) {
				t.Errorf("field %s.%s (json %q) is not in docs/cli-json.md", ty.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	for _, v := range []any{cpuInfo{}, evalResult{}, predictResult{}, dataInfo{}} {
		walk(reflect.TypeOf(v))
	}
}
