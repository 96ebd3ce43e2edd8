package identity

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nnkern/nnkern/kernels"
)

// identityProcs are the GOMAXPROCS values every component runs at.
var identityProcs = []int{1, 2, 3}

// TestSuite is the body of a TestIdentity: it runs comps at every ISA
// level this CPU and build can run (kernels.Levels) and at GOMAXPROCS 1, 2
// and 3, and fails listing every component whose hash differs from the
// generic level's at GOMAXPROCS 1, with where it first differs. With
// NNKERN_IDENTITY_OUT set it writes the generic level's hashes there, and
// NNKERN_IDENTITY_RUN restricts it to the matching components (see the
// package documentation). This package's TestIdentity runs Components();
// a package whose internals this package may not import (Go's internal
// rule) runs its own components through TestSuite in its own
// TestIdentity, and make identity merges the files (scripts/identity.sh).
func TestSuite(t *testing.T, comps []Component) {
	t.Helper()
	only := os.Getenv("NNKERN_IDENTITY_RUN")
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			t.Fatalf("NNKERN_IDENTITY_RUN: %v", err)
		}
		var sel []Component
		for _, c := range comps {
			if re.MatchString(c.Name) {
				sel = append(sel, c)
			}
		}
		t.Logf("NNKERN_IDENTITY_RUN=%s: %d of %d components", only, len(sel), len(comps))
		comps = sel
	}

	start := time.Now()
	rep := Check(kernels.Levels(), identityProcs, comps, t.Logf)
	var lv []string
	for _, l := range rep.Levels {
		lv = append(lv, l.String())
	}
	t.Logf("identity: %d components, levels %s, GOMAXPROCS %v, %s: %d differ, in %v",
		len(comps), strings.Join(lv, " "), identityProcs, buildName(), len(groupComponents(rep.Differences)), time.Since(start).Round(time.Millisecond))

	if out := os.Getenv("NNKERN_IDENTITY_OUT"); out != "" && only == "" {
		var b strings.Builder
		fmt.Fprintf(&b, "# nnkern identity suite: the generic level's hashes (written whether or not the other levels agree)\n")
		fmt.Fprintf(&b, "# go\t%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		fmt.Fprintf(&b, "# build\t%s\n", buildName())
		fmt.Fprintf(&b, "# levels\t%s\n", strings.Join(lv, " "))
		fmt.Fprintf(&b, "# gomaxprocs\t%s\n", strings.Trim(fmt.Sprint(identityProcs), "[]"))
		fmt.Fprintf(&b, "# components\t%d\n", len(comps))
		fmt.Fprintf(&b, "# differing components\t%d\n", len(groupComponents(rep.Differences)))
		b.WriteString(Lines(rep.Results[kernels.Generic]))
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Errorf("NNKERN_IDENTITY_OUT: %v", err)
		}
		// Per-case hashes beside it, so that a difference between builds
		// can be traced to its cases.
		b.Reset()
		for _, r := range rep.Results[kernels.Generic] {
			for _, c := range r.Cases {
				fmt.Fprintf(&b, "%s\t%s\t%x\n", r.Name, c.Name, c.Sum)
			}
		}
		if err := os.WriteFile(out+".cases", []byte(b.String()), 0o644); err != nil {
			t.Errorf("NNKERN_IDENTITY_OUT: %v", err)
		}
	}

	if len(rep.Differences) == 0 {
		return
	}
	var b strings.Builder
	lines := groupDifferences(rep.Differences)
	fmt.Fprintf(&b, "%d components differ (%s):\n", len(lines), buildName())
	for _, l := range lines {
		fmt.Fprintf(&b, "\t%s\n", l)
	}
	t.Error(b.String())
}

// groupComponents returns the distinct components in ds.
func groupComponents(ds []Difference) map[string]bool {
	m := map[string]bool{}
	for _, d := range ds {
		m[d.Component] = true
	}
	return m
}

// groupDifferences returns one line per component, sorted: the levels that
// differ from generic in the same way share a line ("avx512, avx2 vs
// generic: ..."), and each GOMAXPROCS difference gets its own.
func groupDifferences(ds []Difference) []string {
	type group struct {
		comp, detail string
		levels       []string
		procs        bool
		where        string
	}
	var gs []*group
	for _, d := range ds {
		procs := d.Procs != d.RefProcs
		var found *group
		for _, g := range gs {
			if !procs && !g.procs && g.comp == d.Component && g.detail == d.Detail {
				found = g
			}
		}
		if found == nil {
			found = &group{comp: d.Component, detail: d.Detail, procs: procs, where: d.Where()}
			gs = append(gs, found)
		}
		found.levels = append(found.levels, d.Level.String())
	}
	var lines []string
	for _, g := range gs {
		where := g.where
		if !g.procs {
			where = strings.Join(g.levels, ", ") + " vs generic"
		}
		lines = append(lines, g.comp+": "+where+": "+g.detail)
	}
	sort.Strings(lines)
	return lines
}

// buildName describes the build: purego or not, GOAMD64 (on amd64).
func buildName() string {
	s := "asm"
	if purego {
		s = "purego"
	}
	if runtime.GOARCH == "amd64" {
		v := "v1"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, kv := range bi.Settings {
				if kv.Key == "GOAMD64" {
					v = kv.Value
				}
			}
		}
		s += " GOAMD64=" + v
	}
	return s
}
