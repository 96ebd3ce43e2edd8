package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A fake sysfs: two packages, SMT siblings, caches of cpu0.
func TestSysfsCoresAndCaches(t *testing.T) {
	root := t.TempDir()
	for cpu, pc := range [][2]int{{0, 0}, {0, 0}, {0, 1}, {1, 0}} { // {package, core}
		d := filepath.Join(root, fmt.Sprintf("cpu%d", cpu), "topology")
		writeFile(t, filepath.Join(d, "physical_package_id"), fmt.Sprint(pc[0]))
		writeFile(t, filepath.Join(d, "core_id"), fmt.Sprint(pc[1]))
	}
	for _, c := range []struct {
		cpus []int
		want int
		ok   bool
	}{{[]int{0, 1, 2, 3}, 3, true}, {[]int{0, 1}, 1, true}, {[]int{1, 3}, 2, true}, {[]int{0, 7}, 0, false}, {nil, 0, false}} {
		if n, ok := sysfsCores(root, c.cpus); n != c.want || ok != c.ok {
			t.Errorf("sysfsCores(%v) = %d, %v; want %d, %v", c.cpus, n, ok, c.want, c.ok)
		}
	}
	for i, c := range []struct{ level, typ, size string }{
		{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "1024K"}, {"3", "Unified", "32M"},
	} {
		d := filepath.Join(root, "cpu0", "cache", fmt.Sprintf("index%d", i))
		writeFile(t, filepath.Join(d, "level"), c.level)
		writeFile(t, filepath.Join(d, "type"), c.typ)
		writeFile(t, filepath.Join(d, "size"), c.size)
	}
	got, ok := sysfsCaches(root, 0)
	if want := (cacheSizes{48 << 10, 32 << 10, 1 << 20, 32 << 20}); !ok || got != want {
		t.Errorf("sysfsCaches = %+v, %v; want %+v", got, ok, want)
	}
	if got, ok := sysfsCaches(root, 1); ok || got != (cacheSizes{-1, -1, -1, -1}) {
		t.Errorf("sysfsCaches of a CPU without cache directories = %+v, %v", got, ok)
	}
	for _, bad := range []string{"", "K", "-4K", "12Q"} {
		if _, err := parseCacheSize(bad); err == nil {
			t.Errorf("parseCacheSize(%q) accepted", bad)
		}
	}
}

// On this machine: never more physical cores than CPUs the process may
// use when the OS told them (cpuid in a guest may describe the host).
func TestDescribeMachineCores(t *testing.T) {
	m := DescribeMachine()
	if m.CoresFrom == "sysfs" && (m.PhysicalCores < 1 || m.PhysicalCores > m.LogicalCPUs) {
		t.Errorf("physical cores %d from sysfs, logical CPUs %d", m.PhysicalCores, m.LogicalCPUs)
	}
	if _, err := os.Stat(filepath.Join(sysfsCPU, "cpu0", "topology", "core_id")); err == nil && m.CoresFrom != "sysfs" {
		t.Errorf("sysfs has the topology but the cores come from %s", m.CoresFrom)
	}
	for name, v := range map[string]int{"l1d": m.L1D, "l1i": m.L1I, "l2": m.L2, "l3": m.L3} {
		if v == 0 || v < -1 {
			t.Errorf("%s = %d, want a size or -1", name, v)
		}
	}
}
