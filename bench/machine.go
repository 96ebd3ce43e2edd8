package bench

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/klauspost/cpuid/v2"
	"github.com/nnkern/nnkern/internal/buildinfo"
	"github.com/nnkern/nnkern/kernels"
)

// Version is nnkern's version as the reports print it. Builds may set it
// with -ldflags "-X github.com/nnkern/nnkern/bench.Version=..."; otherwise
// it comes from the binary's build information (module version and VCS
// revision when recorded).
var Version = ""

// Machine describes where a report was measured.
type Machine struct {
	// CPU is the brand string; Vendor, Family and Model as cpuid reports
	// them; Hypervisor names the hypervisor, if any.
	CPU        string `json:"cpu"`
	Vendor     string `json:"vendor"`
	Family     int    `json:"family"`
	Model      int    `json:"model"`
	Hypervisor string `json:"hypervisor,omitempty"`
	// PhysicalCores counts the distinct cores among the CPUs this process
	// may run on (sysfs topology of the sched_getaffinity set; cpuid's
	// figure, which in a virtual machine may be the host's, where sysfs is
	// absent); LogicalCPUs is runtime.NumCPU (the affinity set).
	// CoresFrom says which: "sysfs" or "cpuid".
	PhysicalCores int    `json:"physical_cores"`
	LogicalCPUs   int    `json:"logical_cpus"`
	CoresFrom     string `json:"cores_from"`
	// Cache sizes in bytes of the first allowed CPU, from sysfs
	// (cpuN/cache), else from cpuid; -1 when neither tells (a guest may
	// hide its L3). CachesFrom says which: "sysfs" or "cpuid".
	CacheLine  int    `json:"cache_line"`
	L1D        int    `json:"l1d"`
	L1I        int    `json:"l1i"`
	L2         int    `json:"l2"`
	L3         int    `json:"l3"`
	CachesFrom string `json:"caches_from"`
	// Features relevant to nnkern's kernels that the CPU has.
	Features []string `json:"features"`
	// ISA is the level the kernels dispatch to (after NNKERN_ISA);
	// Detected the best the CPU and build support; Levels all runnable.
	ISA      string   `json:"isa"`
	Detected string   `json:"isa_detected"`
	Levels   []string `json:"isa_levels"`
	// GoVersion, GOOS, GOARCH, GOAMD64-like build settings and GOMAXPROCS.
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	BuildTags  string `json:"build_tags,omitempty"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	// NNKernVersion is Version or the build information's.
	NNKernVersion string `json:"nnkern_version"`
}

// DescribeMachine fills a Machine for this process: the CPU, its cores
// and caches as the operating system reports them where it can (see
// Machine), the ISA levels and the build. `nnkern cpuinfo` prints it.
func DescribeMachine() Machine {
	c := cpuid.CPU
	m := Machine{
		CPU:           strings.TrimSpace(c.BrandName),
		Vendor:        c.VendorString,
		Family:        c.Family,
		Model:         c.Model,
		PhysicalCores: c.PhysicalCores,
		LogicalCPUs:   runtime.NumCPU(),
		CacheLine:     c.CacheLine,
		L1D:           c.Cache.L1D,
		L1I:           c.Cache.L1I,
		L2:            c.Cache.L2,
		L3:            c.Cache.L3,
		ISA:           kernels.ISA().String(),
		Detected:      kernels.Detected().String(),
		GoVersion:     runtime.Version(),
		GOOS:          runtime.GOOS,
		GOARCH:        runtime.GOARCH,
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		NNKernVersion: nnkernVersion(),
	}
	m.CoresFrom, m.CachesFrom = "cpuid", "cpuid"
	cpus := allowedCPUs()
	if n, ok := sysfsCores(sysfsCPU, cpus); ok {
		m.PhysicalCores, m.CoresFrom = n, "sysfs"
	}
	if len(cpus) > 0 {
		if cs, ok := sysfsCaches(sysfsCPU, cpus[0]); ok {
			m.L1D, m.L1I, m.L2, m.L3, m.CachesFrom = cs.L1D, cs.L1I, cs.L2, cs.L3, "sysfs"
		}
	}
	for _, p := range []*int{&m.L1D, &m.L1I, &m.L2, &m.L3} {
		if *p <= 0 {
			*p = -1
		}
	}
	if c.HypervisorVendorString != "" {
		m.Hypervisor = strings.TrimSpace(c.HypervisorVendorString)
	}
	for _, l := range kernels.Levels() {
		m.Levels = append(m.Levels, l.String())
	}
	for _, f := range []cpuid.FeatureID{cpuid.SSE2, cpuid.AVX, cpuid.AVX2, cpuid.FMA3,
		cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL} {
		if c.Supports(f) {
			m.Features = append(m.Features, f.String())
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" {
				m.BuildTags = s.Value
			}
		}
	}
	return m
}

// nnkernVersion is Version, else buildinfo.Version: the string that
// `nnkern version` prints too.
func nnkernVersion() string {
	if Version != "" {
		return Version
	}
	return buildinfo.Version()
}
