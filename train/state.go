package train

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// State is everything a run needs to continue bit for bit besides the
// model's parameters: save it with them and a later Run picks up where
// this one stopped.
type State[T kernels.Float] struct {
	// Iteration is the next iteration to run.
	Iteration int
	// LearningRate is the step size in effect (decayed at every epoch
	// boundary passed so far).
	LearningRate float64
	// RNG draws the mini-batches (and nothing else during Run).
	RNG *nprand.RandomState
	// Updates holds the update rule's state, one per model parameter in
	// the order of Model.Params; Init creates them.
	Updates []Update[T]
}

// NewState returns the state at the start of iteration cfg.StartIteration
// of a run on n training rows: its learning rate is cfg.LearningRate
// decayed for every epoch boundary before it. Run creates the update
// rule's state (zero) unless Init did.
func NewState[T kernels.Float](cfg Config, n int, rng *nprand.RandomState) *State[T] {
	return &State[T]{
		Iteration:    cfg.StartIteration,
		LearningRate: cfg.LearningRateAt(cfg.StartIteration, EpochLength(n, cfg.BatchSize)),
		RNG:          rng,
	}
}

// Init creates the state of update rule rule for params (zero buffers,
// no steps) unless it exists, in which case it checks that it is rule's.
// A restored checkpoint then fills Buffers.
func (s *State[T]) Init(rule string, params []Param[T]) error {
	if s.Updates != nil {
		if len(s.Updates) != len(params) {
			return fmt.Errorf("the state has %d update rules for %d parameters", len(s.Updates), len(params))
		}
		for _, u := range s.Updates {
			if u.Name() != rule && !(isSGD(rule) && isSGD(u.Name())) {
				return fmt.Errorf("the state holds update rule %s, the configuration names %q", u.Name(), rule)
			}
		}
		return nil
	}
	ups := make([]Update[T], len(params))
	for i, p := range params {
		u, err := NewUpdate[T](rule, len(p.W))
		if err != nil {
			return err
		}
		ups[i] = u
	}
	s.Updates = ups
	return nil
}

// Buffers returns the update rule's state buffers (views, so that a
// restore can copy into them) named "update.PARAM.BUFFER" after the
// parameters, e.g. "update.W.m". It returns nothing for sgd.
func (s *State[T]) Buffers(params []Param[T]) []Buffer[T] {
	var out []Buffer[T]
	for i, u := range s.Updates {
		for _, b := range u.Buffers() {
			out = append(out, Buffer[T]{Name: "update." + params[i].Name + "." + b.Name, Data: b.Data})
		}
	}
	return out
}

// Steps returns the number of updates applied (adam's t; every parameter
// has taken the same number).
func (s *State[T]) Steps() int {
	if len(s.Updates) == 0 {
		return 0
	}
	return s.Updates[0].Steps()
}

// SetSteps sets the number of updates applied, for a restore.
func (s *State[T]) SetSteps(t int) {
	for _, u := range s.Updates {
		u.SetSteps(t)
	}
}
