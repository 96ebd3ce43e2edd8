package train

import "github.com/nnkern/nnkern/kernels"

// sgd is plain stochastic gradient descent, optim.py's sgd:
//
//	w -= lr·dw
//
// The product is rounded before the subtraction, as twolayer's and
// softmax's trainers have always done, so a run with sgd keeps their bits.
type sgd[T kernels.Float] struct {
	steps
	n int
}

func (u *sgd[T]) Name() string         { return "sgd" }
func (u *sgd[T]) Buffers() []Buffer[T] { return nil }

func (u *sgd[T]) Step(w, g []T, lr float64) {
	checkLen("sgd", u.n, len(w), len(g))
	l := T(lr)
	g = g[:len(w)]
	for i, gi := range g {
		w[i] -= T(l * gi)
	}
	u.t++
}
