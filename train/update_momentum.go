package train

import "github.com/nnkern/nnkern/kernels"

// momentumRho is optim.py's default momentum.
const momentumRho = 0.9

// momentum is SGD with momentum, optim.py's sgd_momentum:
//
//	v = 0.9·v − lr·dw
//	w += v
//
// v (the buffer "velocity") starts at zero.
type momentum[T kernels.Float] struct {
	steps
	v    []T
	bufs []Buffer[T]
}

func newMomentum[T kernels.Float](n int) *momentum[T] {
	v := make([]T, n)
	return &momentum[T]{v: v, bufs: []Buffer[T]{{"velocity", v}}}
}

func (u *momentum[T]) Name() string         { return "momentum" }
func (u *momentum[T]) Buffers() []Buffer[T] { return u.bufs }

func (u *momentum[T]) Step(w, g []T, lr float64) {
	checkLen("momentum", len(u.v), len(w), len(g))
	l, rho := T(lr), T(momentumRho)
	g = g[:len(w)]
	v := u.v[:len(w)]
	for i, gi := range g {
		vi := T(rho*v[i]) - T(l*gi)
		v[i] = vi
		w[i] += vi
	}
	u.t++
}
