package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"github.com/nnkern/nnkern/bench"
	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/buildinfo"
	"github.com/nnkern/nnkern/kernels"
)

func runBench(e *env, args []string) error {
	if code := bench.Main(args, e.stdout, e.stderr); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func runVersion(e *env, args []string) error {
	fs := newFlags(e, "version", "", "Prints one line: nnkern <module version> <vcs revision>[-dirty] <go version> <isa>,\nfrom the binary's build information; the bench report header names the same version.\n'nnkern --version' and 'nnkern -v' are the same.")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("version: unexpected argument %q", pos[0])
	}
	fmt.Fprintln(e.stdout, buildinfo.Line())
	return nil
}

func kib(n int) string {
	if n <= 0 {
		return "unknown"
	}
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func runCPUInfo(e *env, args []string) error {
	fs := newFlags(e, "cpuinfo", "", "Prints the CPU, the ISA level the kernels dispatch to, cache sizes,\nthe BLAS backends compiled in and GOMAXPROCS.")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("cpuinfo: unexpected argument %q", pos[0])
	}
	c := cpuid.CPU
	m := bench.DescribeMachine()
	w := e.stdout
	fmt.Fprintf(w, "cpu:         %s (%s, family %d model %d)\n", m.CPU, m.Vendor, m.Family, m.Model)
	fmt.Fprintf(w, "cores:       %d physical, %d logical (from %s)\n", m.PhysicalCores, m.LogicalCPUs, m.CoresFrom)
	fmt.Fprintf(w, "caches:      L1d %s, L1i %s, L2 %s, L3 %s (from %s)\n", kib(m.L1D), kib(m.L1I), kib(m.L2), kib(m.L3), m.CachesFrom)
	var feats []string
	for _, f := range []struct {
		name string
		id   cpuid.FeatureID
	}{{"SSE4.2", cpuid.SSE42}, {"AVX", cpuid.AVX}, {"AVX2", cpuid.AVX2}, {"FMA3", cpuid.FMA3}, {"F16C", cpuid.F16C},
		{"AVX512F", cpuid.AVX512F}, {"AVX512DQ", cpuid.AVX512DQ}, {"AVX512BW", cpuid.AVX512BW}, {"AVX512VL", cpuid.AVX512VL}} {
		if c.Supports(f.id) {
			feats = append(feats, f.name)
		}
	}
	fmt.Fprintf(w, "features:    %s\n", strings.Join(feats, " "))
	var lv []string
	for _, l := range kernels.Levels() {
		lv = append(lv, l.String())
	}
	fmt.Fprintf(w, "isa:         %s (detected %s; available %s; NNKERN_ISA to force a lower one)\n", kernels.ISA(), kernels.Detected(), strings.Join(lv, ", "))
	byLevel := map[kernels.Level][]string{}
	for _, k := range kernels.Kernels() {
		l := kernels.Dispatched(k)
		byLevel[l] = append(byLevel[l], k)
	}
	for _, l := range kernels.Levels() {
		if ks := byLevel[l]; len(ks) > 0 {
			fmt.Fprintf(w, "kernels:     %s: %s\n", l, strings.Join(ks, " "))
		}
	}
	fmt.Fprintf(w, "blas:        %s (compiled in: %s; NNKERN_BLAS to choose)\n", blas.Current(), strings.Join(blas.Backends(), ", "))
	fmt.Fprintf(w, "gomaxprocs:  %d (NumCPU %d)\n", runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(w, "go:          %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
