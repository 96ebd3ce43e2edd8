package train

import "github.com/nnkern/nnkern/kernels"

// optim.py's rmsprop defaults.
const (
	rmspropDecay = 0.99
	rmspropEps   = 1e-8
)

// rmsprop is optim.py's rmsprop:
//
//	c = 0.99·c + (1 − 0.99)·dw²
//	w -= lr·dw / (√c + 1e-8)
//
// c (the buffer "cache") starts at zero. 1 − 0.99 is computed in float64
// at run time, as numpy does, and then converted to T.
type rmsprop[T kernels.Float] struct {
	steps
	c    []T
	bufs []Buffer[T]
}

func newRMSProp[T kernels.Float](n int) *rmsprop[T] {
	c := make([]T, n)
	return &rmsprop[T]{c: c, bufs: []Buffer[T]{{"cache", c}}}
}

func (u *rmsprop[T]) Name() string         { return "rmsprop" }
func (u *rmsprop[T]) Buffers() []Buffer[T] { return u.bufs }

func (u *rmsprop[T]) Step(w, g []T, lr float64) {
	checkLen("rmsprop", len(u.c), len(w), len(g))
	decay := float64(rmspropDecay) // a variable: 1 − decay rounds in float64, as in numpy
	l, d, k, eps := T(lr), T(decay), T(1-decay), T(rmspropEps)
	g = g[:len(w)]
	c := u.c[:len(w)]
	for i, gi := range g {
		ci := T(d*c[i]) + T(k*T(gi*gi))
		c[i] = ci
		w[i] -= T(l*gi) / (sqrt(ci) + eps)
	}
	u.t++
}
