package train

import (
	"fmt"
	"strings"

	"github.com/nnkern/nnkern/kernels"
)

// Rules lists the update rules NewUpdate knows, the default first.
var Rules = []string{"sgd", "momentum", "rmsprop", "adam"}

// Update is one update rule applied to one parameter of n elements, with
// that parameter's state.
type Update[T kernels.Float] interface {
	// Step updates w in place with the gradient g and the learning rate
	// lr, in one pass over w, g and the state, without allocating. It
	// panics, naming the rule and the lengths, unless len(w) == len(g) == n.
	Step(w, g []T, lr float64)
	// Buffers returns the rule's state buffers, named as optim.py's config
	// keys ("velocity", "cache", "m", "v"); sgd has none. Data are views
	// into the state (n elements each): a checkpoint copies them out,
	// a resume copies saved data into a fresh Update's buffers.
	Buffers() []Buffer[T]
	// Steps returns the number of Step calls so far (adam's t).
	Steps() int
	// SetSteps sets the step count, as Steps returned it, when resuming;
	// it panics if t < 0.
	SetSteps(t int)
	// Name returns the rule's name, one of Rules.
	Name() string
}

// Buffer is one named state buffer of an Update.
type Buffer[T kernels.Float] struct {
	Name string
	Data []T
}

// NewUpdate returns the update rule named rule ("" means "sgd") for a
// parameter of n elements, its state zeroed. An unknown name or a
// negative n is an error.
func NewUpdate[T kernels.Float](rule string, n int) (Update[T], error) {
	if n < 0 {
		return nil, fmt.Errorf("train: update rule %q: parameter length %d < 0", rule, n)
	}
	switch rule {
	case "", "sgd":
		return &sgd[T]{n: n}, nil
	case "momentum":
		return newMomentum[T](n), nil
	case "rmsprop":
		return newRMSProp[T](n), nil
	case "adam":
		return newAdam[T](n), nil
	}
	return nil, fmt.Errorf("train: unknown update rule %q (want one of %s)", rule, strings.Join(Rules, ", "))
}

// steps is the step counter every rule keeps.
type steps struct{ t int }

func (s *steps) Steps() int { return s.t }

func (s *steps) SetSteps(t int) {
	if t < 0 {
		panic(fmt.Sprintf("train: SetSteps(%d): the step count cannot be negative", t))
	}
	s.t = t
}

// checkLen panics unless len(w) == len(g) == n; rule names the rule.
func checkLen(rule string, n, lw, lg int) {
	if lw != n || lg != n {
		panic(fmt.Sprintf("train: %s Step: len(w) = %d, len(g) = %d, want both %d (the parameter length the rule was made for)", rule, lw, lg, n))
	}
}
