package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The update kernels are checked bit for bit, on every level, against
// their generic Go definitions and against refStep, a per-element
// restatement of the documented formulas (so the isa=generic subtests
// test something too), with every output in guard bands and the gradient
// checked unmodified. A NaN matches any NaN: which of two NaN operands an
// operation returns is left open by IEEE 754 and by the contract (the
// compiler may swap a commutative operation's operands), so "NaN here" is
// compared and its sign and payload are not.

// updOffsets are the misalignments tested: every element offset within a
// 64-byte line of float32.
const updOffsets = 16

// sameUpd reports whether a and b are the same bits or both NaN.
func sameUpd[T Float](a, b T) bool { return sameBits(a, b) || (a != a && b != b) }

// updInput returns a guarded vector at misalignment off: values of
// random sign with exponents from −80 to 70 (float32's g·g overflows and
// goes subnormal or to zero), and with special values sprinkled in when
// sp is set.
func updInput[T Float](r *rand.Rand, n, off int, sp bool) gv[T] {
	v := guarded[T](n, off)
	for i := range v.S {
		v.S[i] = T(math.Ldexp(2*r.Float64()-1, r.IntN(151)-80))
	}
	if sp {
		withSpecials(r, v.S)
	}
	return v
}

// updScalar returns a scalar argument: mostly the kind of value the
// update rules pass (positive, below 1), sometimes any magnitude or sign,
// and with sp set sometimes a special value.
func updScalar[T Float](r *rand.Rand, sp bool) T {
	switch k := r.IntN(8); {
	case k < 5:
		return T(r.Float64())
	case k < 7 || !sp:
		return T(math.Ldexp(2*r.Float64()-1, r.IntN(41)-20))
	}
	s := specials[T]()
	return s[r.IntN(len(s))]
}

// updCase is one call of an update kernel: the vectors (w, g, then the
// state), the scalars, the kernel and its generic definition.
type updCase[T Float] struct {
	name    string
	k       kernelID
	nstate  int
	nscalar int
	call    func(v [][]T, s []T) // the exported kernel
	generic func(v [][]T, s []T)
	ref     func(v []*T, s []T) // one element, the formula restated
}

func updCases[T Float]() []updCase[T] {
	return []updCase[T]{
		{"MomentumStep", kMomentumStep, 1, 2,
			func(v [][]T, s []T) { MomentumStep(v[0], v[1], v[2], s[0], s[1]) },
			func(v [][]T, s []T) { momentumStepGeneric(v[0], v[1], v[2], s[0], s[1]) },
			func(p []*T, s []T) {
				w, g, v, lr, mu := p[0], *p[1], p[2], s[0], s[1]
				a, b := T(mu**v), T(lr*g)
				*v = a - b
				*w = *w + *v
			}},
		{"RMSPropStep", kRMSPropStep, 1, 4,
			func(v [][]T, s []T) { RMSPropStep(v[0], v[1], v[2], s[0], s[1], s[2], s[3]) },
			func(v [][]T, s []T) { rmspropStepGeneric(v[0], v[1], v[2], s[0], s[1], s[2], s[3]) },
			func(p []*T, s []T) {
				w, g, c, lr, d, k, eps := p[0], *p[1], p[2], s[0], s[1], s[2], s[3]
				gg := T(g * g)
				a, b := T(d**c), T(k*gg)
				*c = a + b
				num := T(lr * g)
				den := T(math.Sqrt(float64(*c))) + eps
				*w = *w - num/den
			}},
		{"AdamStep", kAdamStep, 2, 8,
			func(v [][]T, s []T) { AdamStep(v[0], v[1], v[2], v[3], s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]) },
			func(v [][]T, s []T) {
				adamStepGeneric(v[0], v[1], v[2], v[3], s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
			},
			func(p []*T, s []T) {
				w, g, m, v := p[0], *p[1], p[2], p[3]
				lr, b1, k1, b2, k2, c1, c2, eps := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
				a, b := T(b1**m), T(k1*g)
				*m = a + b
				gg := T(g * g)
				a, b = T(b2**v), T(k2*gg)
				*v = a + b
				mhat, vhat := *m/c1, *v/c2
				num := T(lr * mhat)
				den := T(math.Sqrt(float64(vhat))) + eps
				*w = *w - num/den
			}},
	}
}

func TestMomentumStep(t *testing.T) { both(t, testUpdate[float32](0), testUpdate[float64](0)) }
func TestRMSPropStep(t *testing.T)  { both(t, testUpdate[float32](1), testUpdate[float64](1)) }
func TestAdamStep(t *testing.T)     { both(t, testUpdate[float32](2), testUpdate[float64](2)) }

func testUpdate[T Float](which int) func(t *testing.T) {
	return func(t *testing.T) {
		c := updCases[T]()[which]
		forLevels(t, c.k, func(t *testing.T) {
			r := rand.New(rand.NewPCG(16, uint64(which)))
			for _, sp := range []bool{false, true} {
				for _, n := range testLens {
					for off := 0; off < updOffsets; off++ {
						checkUpdCase(t, r, c, n, off, sp)
					}
				}
			}
		})
	}
}

func checkUpdCase[T Float](t *testing.T, r *rand.Rand, c updCase[T], n, off int, sp bool) {
	t.Helper()
	vs := make([]gv[T], 2+c.nstate)
	in := make([][]T, len(vs))   // the inputs
	got := make([][]T, len(vs))  // what the kernel makes of them
	want := make([][]T, len(vs)) // what the generic definition does
	for j := range vs {
		vs[j] = updInput[T](r, n, (off+5*j)%updOffsets, sp)
		in[j] = clone(vs[j].S)
		got[j] = vs[j].S
		want[j] = clone(vs[j].S)
	}
	s := make([]T, c.nscalar)
	for j := range s {
		s[j] = updScalar[T](r, sp)
	}
	c.call(got, s)
	c.generic(want, s)
	names := []string{"w", "g", "state", "state2"}
	for i := 0; i < n; i++ {
		el := make([]T, len(vs))
		p := make([]*T, len(vs))
		for j := range el {
			el[j] = in[j][i]
			p[j] = &el[j]
		}
		c.ref(p, s)
		for j := range vs {
			if !sameUpd(got[j][i], want[j][i]) || !sameUpd(got[j][i], el[j]) {
				ins := make([]T, len(vs))
				for k := range ins {
					ins[k] = in[k][i]
				}
				t.Fatalf("n=%d off=%d i=%d: %s(w, g, state %v, scalars %v): %s = %v, generic %v, formula %v",
					n, off, i, c.name, ins, s, names[j], got[j][i], want[j][i], el[j])
			}
		}
	}
	for j := range vs {
		vs[j].check(t, c.name+" "+names[j])
	}
	checkUnmodified(t, c.name+" g", got[1], in[1])
}

// TestUpdateSteps runs the kernels with the update rules' constants
// (optim.py's defaults, as package train rounds them) over many steps, so
// the state takes the values training gives it, and compares every level
// with the generic one.
func TestUpdateSteps(t *testing.T) {
	both(t, testUpdateSteps[float32], testUpdateSteps[float64])
}

func testUpdateSteps[T Float](t *testing.T) {
	const n, steps = 1003, 30
	r := rand.New(rand.NewPCG(16, 16))
	w0 := make([]T, n)
	gs := make([][]T, steps)
	for i := range w0 {
		w0[i] = T(r.NormFloat64())
	}
	for s := range gs {
		gs[s] = make([]T, n)
		for i := range gs[s] {
			gs[s][i] = T(math.Ldexp(r.NormFloat64(), -r.IntN(30)))
		}
	}
	// run does the steps at level l and returns w and the state.
	run := func(l Level) [][]T {
		defer SetISA(l)()
		w, a, b := clone(w0), make([]T, n), make([]T, n)
		wm, vm := clone(w0), make([]T, n)
		wr, cr := clone(w0), make([]T, n)
		p1, p2 := 1.0, 1.0
		b1, b2 := 0.9, 0.999
		for s, g := range gs {
			lr := T(1e-3 * math.Pow(0.95, float64(s)))
			MomentumStep(wm, g, vm, lr, T(0.9))
			RMSPropStep(wr, g, cr, lr, T(0.99), T(1-0.99), T(1e-8))
			p1, p2 = p1*b1, p2*b2
			AdamStep(w, g, a, b, lr, T(b1), T(1-b1), T(b2), T(1-b2), T(1-p1), T(1-p2), T(1e-8))
		}
		return [][]T{wm, vm, wr, cr, w, a, b}
	}
	ref := run(Generic)
	for _, l := range Levels() {
		got := run(l)
		for j := range got {
			for i := range got[j] {
				if !sameBits(got[j][i], ref[j][i]) {
					t.Fatalf("isa=%v: output %d, element %d = %v after %d steps, generic %v", l, j, i, got[j][i], steps, ref[j][i])
				}
			}
		}
	}
}

func TestUpdateLengthPanics(t *testing.T) {
	for _, l := range Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer SetISA(l)()
			a, b := make([]float32, 3), make([]float32, 4)
			mustPanic(t, func() { MomentumStep(a, b, a, 1, 1) }, "kernels.MomentumStep", "len(w)=3", "len(g)=4")
			mustPanic(t, func() { MomentumStep(a, a, b, 1, 1) }, "kernels.MomentumStep", "len(w)=3", "len(v)=4")
			mustPanic(t, func() { RMSPropStep(a, b, a, 1, 1, 1, 1) }, "kernels.RMSPropStep", "len(g)=4")
			mustPanic(t, func() { RMSPropStep(a, a, b, 1, 1, 1, 1) }, "kernels.RMSPropStep", "len(c)=4")
			mustPanic(t, func() { AdamStep(a, b, a, a, 1, 1, 1, 1, 1, 1, 1, 1) }, "kernels.AdamStep", "len(g)=4")
			mustPanic(t, func() { AdamStep(a, a, b, a, 1, 1, 1, 1, 1, 1, 1, 1) }, "kernels.AdamStep", "len(m)=4")
			mustPanic(t, func() { AdamStep(a, a, a, b, 1, 1, 1, 1, 1, 1, 1, 1) }, "kernels.AdamStep", "len(v)=4")
		})
	}
}
