package gradcheck

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/nprand"
)

// f(x) = Σ sin(xᵢ)·xᵢ² + x₀·x₁ has an exact gradient to compare with.
func testFunc(x []float64) (func() float64, []float64) {
	f := func() float64 {
		s := x[0] * x[1]
		for _, v := range x {
			s += math.Sin(v) * v * v
		}
		return s
	}
	g := make([]float64, len(x))
	for i, v := range x {
		g[i] = math.Cos(v)*v*v + 2*v*math.Sin(v)
	}
	g[0] += x[1]
	g[1] += x[0]
	return f, g
}

func TestNumerical(t *testing.T) {
	x := []float64{0.3, -1.2, 2.5, 0, 1e-3, -0.7}
	orig := slices.Clone(x)
	f, g := testFunc(x)
	num := Numerical(f, x, 1e-5)
	if !slices.Equal(x, orig) {
		t.Fatalf("x not restored: %v, want %v", x, orig)
	}
	// Truncation error h²/6·|f'''| ~ 1e-10 here and rounding about
	// ε·|f|/h ~ 1e-10: elements well above that match to < 1e-8 relative...
	big := []int{0, 1, 2, 5}
	for _, i := range big {
		if e := RelError(num[i:i+1], g[i:i+1]); e > 1e-8 {
			t.Errorf("element %d: numerical %v, exact %v: relative error %g, want < 1e-8", i, num[i], g[i], e)
		}
	}
	// ...while the tiny ones (x=0: gradient 0; x=1e-3: 3e-6) are only good
	// to the rounding bound in absolute terms.
	for _, i := range []int{3, 4} {
		if d, b := math.Abs(num[i]-g[i]), RoundoffBound(f(), 1e-5, len(x)); d > b {
			t.Errorf("element %d: |numerical-exact| = %g > roundoff bound %g", i, d, b)
		}
	}
	// A wrong gradient is caught.
	g[2] *= 1.001
	if e := RelError(num[:3], g[:3]); e < 1e-4 {
		t.Errorf("a 0.1%% gradient error gives RelError %g", e)
	}
}

func TestSparse(t *testing.T) {
	x := make([]float64, 50)
	rng := nprand.New(1)
	for i := range x {
		x[i] = rng.StandardNormal()
	}
	orig := slices.Clone(x)
	f, g := testFunc(x)
	checks := Sparse(f, x, g, 20, 1e-5, nprand.New(3))
	if !slices.Equal(x, orig) {
		t.Fatal("x not restored")
	}
	if len(checks) != 20 {
		t.Fatalf("%d checks, want 20", len(checks))
	}
	idx := nprand.New(3)
	for _, c := range checks {
		if want := idx.Randint(0, len(x)); c.Index != want {
			t.Errorf("index %d, want %d (rng.Randint(0, len(x)) order)", c.Index, want)
		}
		if c.Analytic != g[c.Index] || c.RelError > 1e-8 || c.RelError != relErr(c.Numerical, c.Analytic) {
			t.Errorf("check %+v (exact %v)", c, g[c.Index])
		}
	}
	if relErr(0, 0) != 0 || relErr(1, -1) != 1 {
		t.Error("relErr special cases")
	}
}

func TestRelError(t *testing.T) {
	if e := RelError([]float64{1, 0, 1e-12}, []float64{1, 0, 0}); math.Abs(e-1e-4) > 1e-18 {
		t.Errorf("RelError = %g, want 1e-4 (1e-12/max(1e-8, 1e-12))", e)
	}
	if e := RelError([]float64{2}, []float64{1}); e != 1.0/3 {
		t.Errorf("RelError = %g, want 1/3", e)
	}
	if e := RelError([]float64{math.NaN()}, []float64{1}); !math.IsNaN(e) {
		t.Errorf("RelError with NaN = %g, want NaN", e)
	}
}

func TestPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"RelError len": func() { RelError([]float64{1}, nil) },
		"Sparse len":   func() { Sparse(func() float64 { return 0 }, []float64{1}, nil, 1, 1e-5, nprand.New(0)) },
		"Sparse empty": func() { Sparse(func() float64 { return 0 }, nil, nil, 1, 1e-5, nprand.New(0)) },
	} {
		func() {
			defer func() {
				e := recover()
				if s, _ := e.(string); !strings.HasPrefix(s, "gradcheck.") {
					t.Errorf("%s: panic %v", name, e)
				}
			}()
			f()
		}()
	}
}

func TestRoundoffBound(t *testing.T) {
	if b := RoundoffBound(-2, 1e-5, 10); math.Abs(b/(10*0x1p-52*2/1e-5)-1) > 1e-15 {
		t.Errorf("RoundoffBound = %g", b)
	}
}
