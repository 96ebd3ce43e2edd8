package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The operating system's view of the cores and caches (Linux sysfs). In a
// virtual machine cpuid often describes the host (a guest of 2 vCPUs sees
// the host's 254 cores) or leaves caches out; sysfs describes the CPUs
// this process may run on.

// sysfsCPU is the root of the per-CPU directories.
const sysfsCPU = "/sys/devices/system/cpu"

// sysfsCores counts the distinct (physical_package_id, core_id) pairs of
// cpus under root (cpuN/topology). ok is false when a CPU's topology is
// missing.
func sysfsCores(root string, cpus []int) (n int, ok bool) {
	if len(cpus) == 0 {
		return 0, false
	}
	seen := map[[2]int]bool{}
	for _, c := range cpus {
		dir := filepath.Join(root, fmt.Sprintf("cpu%d", c), "topology")
		core, err1 := readInt(filepath.Join(dir, "core_id"))
		pkg, err2 := readInt(filepath.Join(dir, "physical_package_id"))
		if err1 != nil || err2 != nil {
			return 0, false
		}
		seen[[2]int{pkg, core}] = true
	}
	return len(seen), true
}

// cacheSizes are cache sizes in bytes, -1 when unknown.
type cacheSizes struct{ L1D, L1I, L2, L3 int }

// sysfsCaches reads cpu's caches under root (cpuN/cache/index*/{level,
// type,size}). ok is false when there are none.
func sysfsCaches(root string, cpu int) (c cacheSizes, ok bool) {
	c = cacheSizes{-1, -1, -1, -1}
	dirs, _ := filepath.Glob(filepath.Join(root, fmt.Sprintf("cpu%d", cpu), "cache", "index*"))
	for _, d := range dirs {
		level, err := readInt(filepath.Join(d, "level"))
		if err != nil {
			continue
		}
		typ, err1 := os.ReadFile(filepath.Join(d, "type"))
		sz, err2 := os.ReadFile(filepath.Join(d, "size"))
		if err1 != nil || err2 != nil {
			continue
		}
		size, err := parseCacheSize(string(sz))
		if err != nil {
			continue
		}
		switch t := strings.TrimSpace(string(typ)); {
		case level == 1 && t == "Data":
			c.L1D, ok = size, true
		case level == 1 && t == "Instruction":
			c.L1I, ok = size, true
		case level == 2:
			c.L2, ok = size, true
		case level == 3:
			c.L3, ok = size, true
		}
	}
	return c, ok
}

// parseCacheSize parses sysfs's "48K", "1024K", "32M" or a plain byte count.
func parseCacheSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	mul := 1
	if s != "" {
		switch s[len(s)-1] {
		case 'K', 'k':
			mul, s = 1<<10, s[:len(s)-1]
		case 'M', 'm':
			mul, s = 1<<20, s[:len(s)-1]
		case 'G', 'g':
			mul, s = 1<<30, s[:len(s)-1]
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad cache size %q", s)
	}
	return n * mul, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
