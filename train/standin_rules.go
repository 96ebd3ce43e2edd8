package train

// A stand-in for the update rules of branch rules16 (train/update*.go),
// with its API, so that this branch builds and tests on its own. Delete
// this file when that branch is merged.

import (
	"fmt"
	"math"

	"github.com/nnkern/nnkern/kernels"
)

// Rules are the names of the update rules NewUpdate knows.
var Rules = []string{"sgd", "momentum", "rmsprop", "adam"}

// Update is the state of one update rule for one parameter of n values.
type Update[T kernels.Float] interface {
	Step(w, g []T, lr float64) // one update of one parameter (len(w)==len(g)==n)
	Buffers() []Buffer[T]      // named state buffers (views); none for sgd
	Steps() int                // updates applied (adam's t)
	SetSteps(int)
}

// Buffer is a named state buffer of an Update.
type Buffer[T kernels.Float] struct {
	Name string
	Data []T
}

// NewUpdate returns the update rule named rule for a parameter of n values.
func NewUpdate[T kernels.Float](rule string, n int) (Update[T], error) {
	switch rule {
	case "", "sgd":
		return &standin[T]{}, nil
	case "momentum":
		return &standin[T]{rule: rule, bufs: []Buffer[T]{{"v", make([]T, n)}}}, nil
	case "rmsprop":
		return &standin[T]{rule: rule, bufs: []Buffer[T]{{"cache", make([]T, n)}}}, nil
	case "adam":
		return &standin[T]{rule: rule, bufs: []Buffer[T]{{"m", make([]T, n)}, {"v", make([]T, n)}}}, nil
	}
	return nil, fmt.Errorf("unknown update rule %q", rule)
}

type standin[T kernels.Float] struct {
	rule string
	bufs []Buffer[T]
	t    int
}

func (u *standin[T]) Buffers() []Buffer[T] { return u.bufs }
func (u *standin[T]) Steps() int           { return u.t }
func (u *standin[T]) SetSteps(t int)       { u.t = t }

func (u *standin[T]) Step(w, g []T, lr float64) {
	u.t++
	switch u.rule {
	case "momentum":
		v := u.bufs[0].Data
		for i := range w {
			v[i] = T(float64(0.9*float64(v[i])) - float64(lr*float64(g[i])))
			w[i] += v[i]
		}
	case "rmsprop":
		c := u.bufs[0].Data
		for i := range w {
			c[i] = T(float64(0.99*float64(c[i])) + float64(0.01*float64(g[i])*float64(g[i])))
			w[i] -= T(lr * float64(g[i]) / (math.Sqrt(float64(c[i])) + 1e-8))
		}
	case "adam":
		m, v := u.bufs[0].Data, u.bufs[1].Data
		b1, b2 := 1-math.Pow(0.9, float64(u.t)), 1-math.Pow(0.999, float64(u.t))
		for i := range w {
			m[i] = T(float64(0.9*float64(m[i])) + float64(0.1*float64(g[i])))
			v[i] = T(float64(0.999*float64(v[i])) + float64(0.001*float64(g[i])*float64(g[i])))
			w[i] -= T(lr * (float64(m[i]) / b1) / (math.Sqrt(float64(v[i])/b2) + 1e-8))
		}
	default:
		l := T(lr)
		for i := range w {
			w[i] -= T(l * g[i])
		}
	}
}
