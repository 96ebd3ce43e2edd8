package train

import "github.com/nnkern/nnkern/kernels"

// optim.py's adam defaults.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// adam is optim.py's adam:
//
//	t += 1
//	m = 0.9·m + (1 − 0.9)·dw
//	v = 0.999·v + (1 − 0.999)·dw²
//	w -= lr·(m / (1 − 0.9ᵗ)) / (√(v / (1 − 0.999ᵗ)) + 1e-8)
//
// m and v (the buffers "m" and "v") start at zero; 1 − β and 1 − βᵗ are
// computed in float64 and converted to T, as numpy computes them with
// Python floats.
//
// βᵗ is a running product kept in float64 (p *= β at every step), not
// math.Pow: one IEEE multiplication gives the same bits on every
// architecture and with any compiler (math.Pow has assembly on some
// architectures, and its Go code is open to the compiler's fused
// multiply-adds), and SetSteps rebuilds the product by the same
// multiplications, so a resumed run continues bit for bit. Its error,
// at most t roundings, is far below what 1 − βᵗ rounded to T keeps.
type adam[T kernels.Float] struct {
	steps
	m, v   []T
	p1, p2 float64 // β1ᵗ and β2ᵗ for the t steps taken
	bufs   []Buffer[T]
}

func newAdam[T kernels.Float](n int) *adam[T] {
	m, v := make([]T, n), make([]T, n)
	return &adam[T]{m: m, v: v, p1: 1, p2: 1, bufs: []Buffer[T]{{"m", m}, {"v", v}}}
}

func (u *adam[T]) Name() string         { return "adam" }
func (u *adam[T]) Buffers() []Buffer[T] { return u.bufs }

// SetSteps sets t and recomputes β1ᵗ and β2ᵗ as t steps would have.
func (u *adam[T]) SetSteps(t int) {
	u.steps.SetSteps(t)
	u.p1, u.p2 = betaPow(adamBeta1, t), betaPow(adamBeta2, t)
}

// betaPow returns β multiplied into 1 t times, as Step's running product
// computes it. Deep in the subnormals the product reaches a fixed point
// (p·β rounds back to p), and every further multiplication gives p again,
// so the loop stops there: at most about 750,000 multiplications for
// β = 0.999, whatever t is.
func betaPow(beta float64, t int) float64 {
	p := 1.0
	for ; t > 0; t-- {
		q := p * beta
		if q == p {
			break
		}
		p = q
	}
	return p
}

func (u *adam[T]) Step(w, g []T, lr float64) {
	checkLen("adam", len(u.m), len(w), len(g))
	u.t++
	// Rounded where defined: arm64 would otherwise fuse the product into
	// 1 − βᵗ below (and keep the unfused one for the state).
	u.p1 = float64(u.p1 * adamBeta1)
	u.p2 = float64(u.p2 * adamBeta2)
	b1, b2 := float64(adamBeta1), float64(adamBeta2) // variables: 1 − β rounds in float64, as in numpy
	l, eps := T(lr), T(adamEps)
	tb1, tb2, k1, k2 := T(b1), T(b2), T(1-b1), T(1-b2)
	c1, c2 := T(1-u.p1), T(1-u.p2) // the bias corrections 1 − βᵗ
	g = g[:len(w)]
	m, v := u.m[:len(w)], u.v[:len(w)]
	for i, gi := range g {
		mi := T(tb1*m[i]) + T(k1*gi)
		vi := T(tb2*v[i]) + T(k2*T(gi*gi))
		m[i], v[i] = mi, vi
		w[i] -= T(l*(mi/c1)) / (sqrt(vi/c2) + eps)
	}
}
