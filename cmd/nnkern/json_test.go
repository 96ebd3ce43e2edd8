package main

// Tests of --json: each command prints one JSON object on stdout whose
// fields agree with what the library says in this test process.

import (
	"bytes"
	"encoding/json"
	"runtime"
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
	if ci.ISA != "generic" || ci.ISADetected != kernels.Detected().String() {
		t.Errorf("isa %q detected %q, want generic (NNKERN_ISA) and %s", ci.ISA, ci.ISADetected, kernels.Detected())
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
