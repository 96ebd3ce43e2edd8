package bench

import (
	"regexp"
	"strings"
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
			rep, err := Run(Options{Filter: regexp.MustCompile(`.`), Smoke: true})
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
				switch {
				case c.Level != CurrentLevel:
					if r.ISA != c.Level.String() {
						t.Errorf("%s: ran at %s", r.Name, r.ISA)
					}
				case r.ISA != l.String() && !strings.Contains(r.Name, "/ref/"):
					t.Errorf("%s: reports ISA %s, the kernels were at %s", r.Name, r.ISA, l)
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
	// Slow cases need the filter.
	for _, c := range Select(Options{}) {
		if c.Slow {
			t.Errorf("%s is slow but selected without a filter", c.Name())
		}
	}
}
