package identity

import (
	"math"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// TestDiff: Diff names the first differing case, output and element, with
// the first result's value first; a panic is recorded as an output.
func TestDiff(t *testing.T) {
	mk := func(v float32, bad bool) Component {
		return Component{Name: "test/x/f32", run: func(r *Recorder) {
			r.Case("same", func() { put(r, "a", []float32{1, 2}) })
			r.Case("other", func() {
				put(r, "a", []float32{1, 2, 3})
				put(r, "b", []float32{4, v, 6, v})
			})
			r.Case("panics", func() {
				if bad {
					panic("boom")
				}
				r.Ints("i", 7)
			})
		}}
	}
	a, b := mk(5, false).RunKeep(), mk(5.5, false).RunKeep()
	if a.Sum == b.Sum {
		t.Fatal("different outputs, same hash")
	}
	if a.Values != 2+3+4+1 {
		t.Errorf("Values = %d, want 10", a.Values)
	}
	want := "1 of 3 cases differ, first other: b[1] = 5 (0x40a00000) vs 5.5 (0x40b00000) (2 of 4 elements differ)"
	if got := Diff(a, b); got != want {
		t.Errorf("Diff:\n got %s\nwant %s", got, want)
	}
	if h := mk(5, false).Run(); h.Sum != a.Sum || h.Cases[1].Outputs != nil {
		t.Errorf("Run and RunKeep disagree, or Run kept outputs")
	}
	// NaN signs and payloads are not compared; the guard sentinel is.
	nan1, nan2 := math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00123)
	if h1, h2 := mk(nan1, false).Run(), mk(nan2, false).Run(); h1.Sum != h2.Sum {
		t.Errorf("NaNs of different sign and payload hash differently")
	}
	if h1, h2 := mk(nan1, false).Run(), mk(sentinel[float32](), false).Run(); h1.Sum == h2.Sum {
		t.Errorf("the guard sentinel hashes like any NaN")
	}
	c := mk(5, true).RunKeep()
	if d := Diff(c, a); !strings.Contains(d, "first panics") || !strings.Contains(d, "boom") {
		t.Errorf("Diff of a panicking case: %s", d)
	}
}

// TestInputsPinned pins the hash of the generated inputs' sample, so that a
// machine or build that generates different inputs (the generator must
// use integer operations and exact conversions only) is caught even
// without a reference file from another machine. Changing the generator
// on purpose changes every component's hash: update the constant then.
func TestInputsPinned(t *testing.T) {
	const want = "4f25cd4388c720202bb060d24a046c5353c64eedd35168cf73e934f4d1cfff1c"
	if got := inputsComponent().Run().Hex(); got != want {
		t.Errorf("identity/inputs hash %s, want %s: the generated inputs changed", got, want)
	}
}

// TestNamesUnique: component names are unique and well formed.
func TestNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Names() {
		if seen[n] {
			t.Errorf("duplicate component %s", n)
		}
		seen[n] = true
		if strings.ContainsAny(n, " \t\n") {
			t.Errorf("component name %q has white space", n)
		}
	}
}

// TestCheckFindsDifferences: Check reports a component whose output
// depends on GOMAXPROCS, and one that depends on the ISA level, and not
// one that depends on neither.
func TestCheckFindsDifferences(t *testing.T) {
	comps := []Component{
		{Name: "test/procs", run: func(r *Recorder) {
			r.Case("c", func() { r.Ints("p", runtime.GOMAXPROCS(0)) })
		}},
		{Name: "test/level", run: func(r *Recorder) {
			r.Case("c", func() { r.Ints("l", int(kernels.ISA())) })
		}},
		{Name: "test/fixed", run: func(r *Recorder) {
			r.Case("c", func() { r.Ints("x", 1) })
		}},
	}
	levels := kernels.Levels()
	rep := Check(levels, []int{1, 2}, comps, nil)
	var got []string
	for _, d := range rep.Differences {
		got = append(got, d.Component+" "+d.Where())
	}
	want := []string{"test/procs generic GOMAXPROCS=2 vs GOMAXPROCS=1"}
	for _, l := range levels[:len(levels)-1] { // all but generic, highest first
		want = append(want, "test/procs "+l.String()+" GOMAXPROCS=2 vs GOMAXPROCS=1", "test/level "+l.String()+" vs generic")
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
