package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// hyper holds the hyperparameters of the reference rules, so a test can
// show that a wrong formula is caught.
type hyper struct {
	lrScale, rho, decay, beta1, beta2, eps float64
}

// optimPy is optim.py's defaults; lrScale 1 is the formula itself.
var optimPy = hyper{lrScale: 1, rho: 0.9, decay: 0.99, beta1: 0.9, beta2: 0.999, eps: 1e-8}

// wrong returns a hyperparameter set that differs from optim.py's in what
// rule uses, for the checks that the comparisons can fail.
func wrong(rule string) hyper {
	h := optimPy
	switch rule {
	case "sgd":
		h.lrScale = 1.01
	case "momentum":
		h.rho = 0.8
	case "rmsprop":
		h.decay = 0.9
	case "adam":
		h.beta1 = 0.8
	}
	return h
}

// refRule is the float64 reference of an update rule, written from
// optim.py line by line, separately from the rules under test. Every
// product is rounded on its own by an explicit conversion, so no compiler
// fuses it (the comparison with the float64 rules is exact). βᵗ is a
// running product, the way the adam rule documents it.
type refRule struct {
	rule   string
	h      hyper
	t      int
	a, b   []float64 // velocity or cache; adam's m and v
	p1, p2 float64
}

func newRef(rule string, h hyper, n int) *refRule {
	return &refRule{rule: rule, h: h, a: make([]float64, n), b: make([]float64, n), p1: 1, p2: 1}
}

func (r *refRule) step(w, dw []float64, learningRate float64) {
	h := r.h
	lr := h.lrScale * learningRate
	switch r.rule {
	case "sgd":
		for i := range w {
			w[i] = w[i] - float64(lr*dw[i])
		}
	case "momentum":
		for i := range w {
			r.a[i] = float64(h.rho*r.a[i]) - float64(lr*dw[i])
			w[i] = w[i] + r.a[i]
		}
	case "rmsprop":
		for i := range w {
			r.a[i] = float64(h.decay*r.a[i]) + float64((1-h.decay)*float64(dw[i]*dw[i]))
			w[i] = w[i] - float64(lr*dw[i])/(math.Sqrt(r.a[i])+h.eps)
		}
	case "adam":
		r.t++
		r.p1 = float64(r.p1 * h.beta1) // rounded: arm64 would fuse it into 1 − p1
		r.p2 = float64(r.p2 * h.beta2)
		for i := range w {
			r.a[i] = float64(h.beta1*r.a[i]) + float64((1-h.beta1)*dw[i])
			mt := r.a[i] / (1 - r.p1)
			r.b[i] = float64(h.beta2*r.b[i]) + float64((1-h.beta2)*float64(dw[i]*dw[i]))
			vt := r.b[i] / (1 - r.p2)
			w[i] = w[i] - float64(lr*mt)/(math.Sqrt(vt)+h.eps)
		}
	default:
		panic("no reference for " + r.rule)
	}
}

// buffers returns the reference's state in the order of Update.Buffers.
func (r *refRule) buffers() [][]float64 {
	switch r.rule {
	case "momentum", "rmsprop":
		return [][]float64{r.a}
	case "adam":
		return [][]float64{r.a, r.b}
	}
	return nil
}

const (
	testN     = 60
	testSteps = 20
)

// testData returns the initial weights and testSteps gradients and
// learning rates: magnitudes from 1e-20 to 1e15 (float32's dw² stays
// finite, and goes subnormal or to zero for the smallest), some elements
// whose gradient is always zero, a step whose whole gradient is zero, and
// a learning rate that decays.
func testData() (w0 []float64, gs [][]float64, lrs []float64) {
	rng := rand.New(rand.NewPCG(16, 1))
	scale := []float64{1, 1e-3, 1e3, 1e-20, 1e15, 1e-6, 1e6}
	w0 = make([]float64, testN)
	for i := range w0 {
		w0[i] = float64(float32(rng.NormFloat64() * scale[rng.IntN(len(scale))]))
	}
	lr := 1e-3
	for s := range testSteps {
		g := make([]float64, testN)
		for i := range g {
			if s == 5 || i%9 == 4 {
				continue
			}
			g[i] = float64(float32(rng.NormFloat64() * scale[(i+s)%len(scale)]))
		}
		gs = append(gs, g)
		lrs = append(lrs, lr)
		lr *= 0.95
	}
	return w0, gs, lrs
}

func convert[T, U kernels.Float](x []U) []T {
	y := make([]T, len(x))
	for i, v := range x {
		y[i] = T(v)
	}
	return y
}

func newUpdate[T kernels.Float](t *testing.T, rule string, n int) Update[T] {
	t.Helper()
	u, err := NewUpdate[T](rule, n)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUpdateFloat64 runs every rule in float64 for testSteps steps and
// compares the weights and the state with the reference after every step:
// same formula, same operation order, so the same bits. The reference with
// one hyperparameter changed must not match.
func TestUpdateFloat64(t *testing.T) {
	w0, gs, lrs := testData()
	for _, rule := range Rules {
		t.Run(rule, func(t *testing.T) {
			if bad := compare64(t, rule, optimPy, w0, gs, lrs); bad != "" {
				t.Error(bad)
			}
			if bad := compare64(t, rule, wrong(rule), w0, gs, lrs); bad == "" {
				t.Errorf("the reference with %+v matches too: the comparison cannot catch a wrong formula", wrong(rule))
			}
		})
	}
}

// compare64 returns the first mismatch between the float64 rule and the
// reference with hyperparameters h, or "".
func compare64(t *testing.T, rule string, h hyper, w0 []float64, gs [][]float64, lrs []float64) string {
	u := newUpdate[float64](t, rule, len(w0))
	ref := newRef(rule, h, len(w0))
	w, wr := convert[float64](w0), convert[float64](w0)
	for s := range gs {
		u.Step(w, gs[s], lrs[s])
		ref.step(wr, gs[s], lrs[s])
		if u.Steps() != s+1 {
			return fmt.Sprintf("step %d: Steps() = %d", s, u.Steps())
		}
		got, want := [][]float64{w}, [][]float64{wr}
		for _, b := range u.Buffers() {
			got = append(got, b.Data)
		}
		want = append(want, ref.buffers()...)
		if len(got) != len(want) {
			return fmt.Sprintf("%d buffers, the reference has %d", len(got)-1, len(want)-1)
		}
		for j := range got {
			for i := range got[j] {
				if math.Float64bits(got[j][i]) != math.Float64bits(want[j][i]) {
					return fmt.Sprintf("step %d, %s[%d] = %g, reference %g", s, name(u, j), i, got[j][i], want[j][i])
				}
			}
		}
	}
	return ""
}

func name[T kernels.Float](u Update[T], j int) string {
	if j == 0 {
		return "w"
	}
	return u.Buffers()[j-1].Name
}

// ev is a float64 reference value x with a bound e on how far the float32
// computation of the same expression can be from it. Each rounded
// operation of either adds u32·|result| + eta32: float32's unit roundoff
// 2⁻²⁴ (plus float64's 2⁻⁵³, as the reference rounds too) and half the
// spacing of float32's subnormals, which covers gradual underflow. The
// propagation rules are exact bounds (for a product |ab − a'b'| ≤
// |a|·eb + |b|·ea + ea·eb, and so on), not first-order estimates.
type ev struct{ x, e float64 }

const (
	u32   = 0x1p-24 + 0x1p-53
	eta32 = 0x1p-150
)

// rounded adds the rounding of a result whose operands' errors give e.
func rounded(x, e float64) ev { return ev{x, e + u32*(math.Abs(x)+e) + eta32} }

// exact is a value float32 holds exactly (inputs and state).
func exact(x float64) ev { return ev{x, 0} }

// constant is a float64 constant that the float32 rule converts to float32.
func constant(x float64) ev { return rounded(x, 0) }

func (a ev) add(b ev) ev { return rounded(a.x+b.x, a.e+b.e) }
func (a ev) sub(b ev) ev { return rounded(a.x-b.x, a.e+b.e) }
func (a ev) mul(b ev) ev {
	return rounded(a.x*b.x, math.Abs(a.x)*b.e+math.Abs(b.x)*a.e+a.e*b.e)
}
func (a ev) div(b ev) ev {
	if math.Abs(b.x) <= b.e {
		panic("ev: the divisor's error bound reaches zero")
	}
	return rounded(a.x/b.x, (a.e+math.Abs(a.x/b.x)*b.e)/(math.Abs(b.x)-b.e))
}
func (a ev) sqrt() ev {
	// √x − √(x−e) = e / (√x + √(x−e)) bounds both directions, and so
	// does √e, which stays finite at x = 0 (underflowed squares).
	e := math.Sqrt(a.e)
	if a.x > 0 {
		e = min(e, a.e/(math.Sqrt(a.x)+math.Sqrt(max(a.x-a.e, 0))))
	}
	return rounded(math.Sqrt(a.x), e)
}

// evStep is one step of the rule in ev arithmetic from the float32 state
// (w, a, b) and gradient g; it returns the new w and state. p1 and p2 are
// β1ᵗ and β2ᵗ after this step.
func evStep(rule string, h hyper, w, g, a, b float32, lr, p1, p2 float64) (wn, an, bn ev) {
	W, G, A, B := exact(float64(w)), exact(float64(g)), exact(float64(a)), exact(float64(b))
	L := constant(h.lrScale * lr)
	switch rule {
	case "sgd":
		return W.sub(L.mul(G)), an, bn
	case "momentum":
		an = constant(h.rho).mul(A).sub(L.mul(G))
		return W.add(an), an, bn
	case "rmsprop":
		an = constant(h.decay).mul(A).add(constant(1 - h.decay).mul(G.mul(G)))
		return W.sub(L.mul(G).div(an.sqrt().add(constant(h.eps)))), an, bn
	case "adam":
		an = constant(h.beta1).mul(A).add(constant(1 - h.beta1).mul(G))
		bn = constant(h.beta2).mul(B).add(constant(1 - h.beta2).mul(G.mul(G)))
		mt := an.div(constant(1 - p1))
		vt := bn.div(constant(1 - p2))
		return W.sub(L.mul(mt).div(vt.sqrt().add(constant(h.eps)))), an, bn
	}
	panic("no reference for " + rule)
}

// TestUpdateFloat32 runs every rule in float32 for testSteps steps and
// checks each step against the float64 reference computed from the same
// float32 weights and state, within the bound the ev arithmetic gives:
// every float32 rounding of the rule's operations (the constants', the
// products', the sums', the quotients', the square root's) counted at
// the magnitude where it happens, so cancellation and underflow are
// accounted for. The reference with one hyperparameter changed must fall
// outside the bound.
func TestUpdateFloat32(t *testing.T) {
	w0, gs, lrs := testData()
	for _, rule := range Rules {
		t.Run(rule, func(t *testing.T) {
			if bad := compare32(t, rule, optimPy, w0, gs, lrs); bad != "" {
				t.Error(bad)
			}
			if bad := compare32(t, rule, wrong(rule), w0, gs, lrs); bad == "" {
				t.Errorf("the reference with %+v is within the bound too: the comparison cannot catch a wrong formula", wrong(rule))
			}
		})
	}
}

func compare32(t *testing.T, rule string, h hyper, w0 []float64, gs [][]float64, lrs []float64) string {
	u := newUpdate[float32](t, rule, len(w0))
	w := convert[float32](w0)
	zero := make([]float32, len(w0))
	p1, p2 := 1.0, 1.0
	worst := 0.0
	for s := range gs {
		g := convert[float32](gs[s])
		a, b := zero, zero
		if bufs := u.Buffers(); len(bufs) > 0 {
			a = append([]float32(nil), bufs[0].Data...)
			if len(bufs) > 1 {
				b = append([]float32(nil), bufs[1].Data...)
			}
		}
		wOld := append([]float32(nil), w...)
		u.Step(w, g, lrs[s])
		p1, p2 = float64(p1*h.beta1), float64(p2*h.beta2)
		for i := range w {
			wn, an, bn := evStep(rule, h, wOld[i], g[i], a[i], b[i], lrs[s], p1, p2)
			got := []float32{w[i]}
			want := []ev{wn}
			for j, buf := range u.Buffers() {
				got = append(got, buf.Data[i])
				want = append(want, []ev{an, bn}[j])
			}
			for j := range got {
				d := math.Abs(float64(got[j]) - want[j].x)
				if !(d <= want[j].e) {
					return fmt.Sprintf("step %d, %s[%d] = %g, reference %g ± %g", s, name(u, j), i, got[j], want[j].x, want[j].e)
				}
				if want[j].e > 0 {
					worst = max(worst, d/want[j].e)
				}
			}
		}
	}
	t.Logf("%s %+v: largest error %.3g of its bound", rule, h, worst)
	return ""
}

// TestSGDMatchesTrainers checks that sgd is, bit for bit, the step
// twolayer's and softmax's trainers take: w[i] -= T(T(lr) * g[i]).
func TestSGDMatchesTrainers(t *testing.T) {
	testSGD[float32](t)
	testSGD[float64](t)
}

func testSGD[T kernels.Float](t *testing.T) {
	w0, gs, lrs := testData()
	u := newUpdate[T](t, "", len(w0))
	if u.Name() != "sgd" || u.Buffers() != nil {
		t.Fatalf(`NewUpdate(""): Name() = %q, %d buffers; want sgd, none`, u.Name(), len(u.Buffers()))
	}
	w, want := convert[T](w0), convert[T](w0)
	for s := range gs {
		g := convert[T](gs[s])
		u.Step(w, g, lrs[s])
		for i := range want {
			want[i] -= T(T(lrs[s]) * g[i])
		}
		for i := range w {
			if w[i] != want[i] {
				t.Fatalf("%T step %d: w[%d] = %g, the trainers' step gives %g", w[i], s, i, w[i], want[i])
			}
		}
	}
}

// TestUpdateResume runs k steps, saves Steps and a copy of the buffers,
// restores them into a fresh Update and runs on: the result must be the
// bits of an uninterrupted run. A fresh Update that is not restored must
// differ (except sgd, which has no state), so the test can fail.
func TestUpdateResume(t *testing.T) {
	for _, rule := range Rules {
		t.Run(rule+"/f32", func(t *testing.T) { testResume[float32](t, rule) })
		t.Run(rule+"/f64", func(t *testing.T) { testResume[float64](t, rule) })
	}
}

func testResume[T kernels.Float](t *testing.T, rule string) {
	const k = 7
	w0, gs, lrs := testData()
	whole := newUpdate[T](t, rule, len(w0))
	first := newUpdate[T](t, rule, len(w0))
	w, wr := convert[T](w0), convert[T](w0)
	for s := range k {
		g := convert[T](gs[s])
		whole.Step(w, g, lrs[s])
		first.Step(wr, g, lrs[s])
	}
	steps := first.Steps()
	var saved [][]T
	for _, b := range first.Buffers() {
		saved = append(saved, append([]T(nil), b.Data...))
	}

	resumed := newUpdate[T](t, rule, len(w0))
	for j, b := range resumed.Buffers() {
		if b.Name != first.Buffers()[j].Name {
			t.Fatalf("buffer %d is %q in a fresh Update, %q in the saved one", j, b.Name, first.Buffers()[j].Name)
		}
		copy(b.Data, saved[j])
	}
	resumed.SetSteps(steps)
	unrestored := newUpdate[T](t, rule, len(w0))
	wu := append([]T(nil), wr...)
	for s := k; s < len(gs); s++ {
		g := convert[T](gs[s])
		whole.Step(w, g, lrs[s])
		resumed.Step(wr, g, lrs[s])
		unrestored.Step(wu, g, lrs[s])
	}
	if whole.Steps() != resumed.Steps() {
		t.Errorf("Steps() = %d after resuming, %d uninterrupted", resumed.Steps(), whole.Steps())
	}
	if i := firstDiff(w, wr); i >= 0 {
		t.Errorf("w[%d] = %g after resuming at step %d, %g uninterrupted", i, wr[i], k, w[i])
	}
	for j, b := range whole.Buffers() {
		if i := firstDiff(b.Data, resumed.Buffers()[j].Data); i >= 0 {
			t.Errorf("%s[%d] differs after resuming", b.Name, i)
		}
	}
	if rule != "sgd" && firstDiff(w, wu) < 0 {
		t.Errorf("a fresh %s Update that was not restored gives the same weights: the state is not tested", rule)
	}
}

// firstDiff returns the first index where the bits of x and y differ, or -1.
func firstDiff[T kernels.Float](x, y []T) int {
	for i := range x {
		if math.Float64bits(float64(x[i])) != math.Float64bits(float64(y[i])) {
			return i
		}
	}
	return -1
}

// TestAdamSetStepsBeta checks SetSteps' βᵗ: the running product after t
// steps, within t roundings of math.Pow's value, and zero once it
// underflows.
func TestAdamSetStepsBeta(t *testing.T) {
	u := newAdam[float64](1)
	w, g := []float64{0}, []float64{0}
	for step := 1; step <= 3000; step++ {
		u.Step(w, g, 1e-3)
		r := newAdam[float64](1)
		r.SetSteps(step)
		if r.p1 != u.p1 || r.p2 != u.p2 {
			t.Fatalf("SetSteps(%d): β1ᵗ, β2ᵗ = %g, %g; %d steps give %g, %g", step, r.p1, r.p2, step, u.p1, u.p2)
		}
		for _, c := range []struct{ p, beta float64 }{{u.p1, adamBeta1}, {u.p2, adamBeta2}} {
			if want := math.Pow(c.beta, float64(step)); want > 0x1p-1000 && math.Abs(c.p-want) > float64(step)*0x1p-52*want {
				t.Fatalf("%g^%d = %g by the running product, %g by math.Pow", c.beta, step, c.p, want)
			}
		}
	}
	// The running product ends in a fixed point: SetSteps of a huge t is
	// quick and equals what that many steps would give.
	for _, beta := range []float64{adamBeta1, adamBeta2} {
		p := 1.0
		for range 2_000_000 {
			p *= beta
		}
		if got := betaPow(beta, 1<<62); got != p || got > 0x1p-1000 {
			t.Errorf("betaPow(%g, 2^62) = %g, 2,000,000 multiplications give %g", beta, got, p)
		}
	}
}

func TestNewUpdateErrors(t *testing.T) {
	_, err := NewUpdate[float32]("nesterov", 3)
	if err == nil {
		t.Fatal(`NewUpdate("nesterov") succeeded`)
	}
	for _, want := range append([]string{`"nesterov"`}, Rules...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := NewUpdate[float64]("adam", -1); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("NewUpdate(adam, -1): error %v, want one naming -1", err)
	}
	for _, rule := range Rules {
		u, err := NewUpdate[float64](rule, 0)
		if err != nil || u.Name() != rule {
			t.Errorf("NewUpdate(%q, 0) = %v, %v", rule, u, err)
			continue
		}
		u.Step(nil, nil, 1) // n = 0 is a valid, empty parameter
	}
}

func TestUpdateLengthPanics(t *testing.T) {
	for _, rule := range Rules {
		u := newUpdate[float32](t, rule, 4)
		for _, c := range []struct{ w, g int }{{3, 4}, {4, 5}, {5, 5}} {
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				u.Step(make([]float32, c.w), make([]float32, c.g), 1)
				return "no panic"
			}()
			want := fmt.Sprintf("train: %s Step: len(w) = %d, len(g) = %d, want both 4", rule, c.w, c.g)
			if !strings.HasPrefix(msg, want) {
				t.Errorf("%s: panic %q, want one starting %q", rule, msg, want)
			}
		}
		if u.Steps() != 0 {
			t.Errorf("%s: Steps() = %d after panicking steps", rule, u.Steps())
		}
	}
	msg := func() (msg string) {
		defer func() { msg = fmt.Sprint(recover()) }()
		newUpdate[float64](t, "adam", 1).SetSteps(-2)
		return "no panic"
	}()
	if !strings.Contains(msg, "SetSteps(-2)") {
		t.Errorf("SetSteps(-2): panic %q", msg)
	}
}

func TestUpdateNoAllocs(t *testing.T) {
	for _, rule := range Rules {
		testNoAllocs[float32](t, rule)
		testNoAllocs[float64](t, rule)
	}
}

func testNoAllocs[T kernels.Float](t *testing.T, rule string) {
	w0, gs, _ := testData()
	u := newUpdate[T](t, rule, len(w0))
	w, g := convert[T](w0), convert[T](gs[0])
	if a := testing.AllocsPerRun(20, func() { u.Step(w, g, 1e-9) }); a != 0 {
		t.Errorf("%s %T: %v allocations per Step", rule, w[0], a)
	}
}
