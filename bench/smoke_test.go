package bench

import (
	"regexp"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// TestEveryCaseEveryLevel runs every registered case (slow ones too) once at
// its tiny size with the kernels at each ISA level the machine has. Cases
// that force a level must report it; the others must report the level they
// ran at (or their own ISA for implementations outside the dispatch).
func TestEveryCaseEveryLevel(t *testing.T) {
	all := Cases()
	if len(all) == 0 {
		t.Fatal("no cases registered")
	}
	fams := map[string]bool{}
	for _, c := range all {
		fams[c.Family] = true
	}
	for _, f := range []string{"peak", "kernels", "gemm"} {
		if !fams[f] {
			t.Errorf("no %s cases registered", f)
		}
	}
	for _, l := range kernels.Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer kernels.SetISA(l)()
			rep, err := Run(Options{Smoke: true, Slow: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != len(all) {
				t.Errorf("%d results for %d cases", len(rep.Results), len(all))
			}
			byName := map[string]*Case{}
			for _, c := range all {
				byName[c.Name()] = c
			}
			for _, r := range rep.Results {
				c := byName[r.Name]
				if r.Error != "" {
					t.Errorf("%s: %s", r.Name, r.Error)
					continue
				}
				if r.N != 1 || r.Iters[0] != 1 {
					t.Errorf("%s: smoke run took %d samples of %v iterations, want one of 1", r.Name, r.N, r.Iters)
				}
				want := l
				if c.Level != CurrentLevel {
					want = c.Level
				}
				switch {
				case c.Family == "kernels" && c.Impl == "nnkern":
					restore := kernels.SetISA(want)
					d := kernels.Dispatched(c.Op)
					restore()
					if r.ISA != d.String() {
						t.Errorf("%s: reports ISA %s, kernels.Dispatched says %s", r.Name, r.ISA, d)
					}
				case c.Family == "gemm" && c.Impl != "native":
					// gonum and OpenBLAS name their own instruction sets.
				case r.ISA != want.String():
					t.Errorf("%s: reports ISA %s, the kernels were at %s", r.Name, r.ISA, want)
				}
			}
			if kernels.ISA() != l {
				t.Errorf("Run left the kernels at %s, want %s", kernels.ISA(), l)
			}
		})
	}
}

// Every kernel case exists for every level the machine has.
func TestKernelCasesPerLevel(t *testing.T) {
	have := map[string]bool{}
	for _, c := range Cases() {
		if c.Family == "kernels" && c.Impl == "nnkern" {
			have[c.Op+"/"+c.DType+"/"+c.Level.String()] = true
		}
	}
	for _, op := range []string{"Dot", "Axpy", "Exp", "SoftmaxCERows"} {
		for _, dt := range []string{"f32", "f64"} {
			for _, l := range kernels.Levels() {
				if !have[op+"/"+dt+"/"+l.String()] {
					t.Errorf("no kernels case %s %s at %s", op, dt, l)
				}
			}
		}
	}
}

func TestSelect(t *testing.T) {
	o := Options{Filter: regexp.MustCompile(`^kernels/Dot/`), DTypes: []string{"f64"}, Threads: []int{1}}
	sel := Select(o)
	if len(sel) != len(kernels.Levels()) {
		t.Errorf("selected %d cases, want one per level (%d)", len(sel), len(kernels.Levels()))
	}
	for _, c := range sel {
		if c.Op != "Dot" || c.DType != "f64" || c.Threads != 1 {
			t.Errorf("selected %s", c.Name())
		}
	}
	// Slow cases need Options.Slow.
	for _, c := range Select(Options{Filter: regexp.MustCompile(`.`)}) {
		if c.Slow {
			t.Errorf("%s is slow but selected without a filter", c.Name())
		}
	}
}

// Every Compare entry names a variant some case of the same group can
// produce (openblas only exists in builds with the openblas tag), and the
// declared figures are sane.
func TestCaseMetadata(t *testing.T) {
	variants := map[string]map[string]bool{}
	for _, c := range Cases() {
		g := c.group()
		if variants[g] == nil {
			variants[g] = map[string]bool{}
		}
		variants[g][c.Impl] = true
		if c.Level != CurrentLevel {
			variants[g][c.Impl+"/"+c.Level.String()] = true
		}
	}
	for _, c := range Cases() {
		if c.Family == "" || c.Op == "" || c.Impl == "" || c.Threads < 1 || c.FLOPs < 0 || c.Bytes < 0 {
			t.Errorf("%s: incomplete case %+v", c.Name(), c)
		}
		if c.DType != "" && c.DType != "f32" && c.DType != "f64" {
			t.Errorf("%s: dtype %q", c.Name(), c.DType)
		}
		if c.Peak == PeakFMA && c.FLOPs == 0 || c.Peak == PeakRead && c.Bytes == 0 {
			t.Errorf("%s: peak %s without the matching count", c.Name(), c.Peak)
		}
		for _, v := range c.Compare {
			if !variants[c.group()][v] && v != "openblas" {
				t.Errorf("%s: compares with %q, which no case of its group provides", c.Name(), v)
			}
		}
	}
}
