package train

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Bounds that keep a bad configuration from allocating without limit.
const (
	// MaxBatchSize is the largest BatchSize accepted (the batch buffer is
	// BatchSize × D).
	MaxBatchSize = 1 << 24
	// MaxHistPrealloc is the most loss-history entries a trainer allocates
	// up front; a longer run appends beyond it.
	MaxHistPrealloc = 1 << 20
)

// Config holds the hyperparameters of a training run.
type Config struct {
	LearningRate float64 // initial step size (finite)
	// LearningRateDecay multiplies the step size at every epoch boundary,
	// after that iteration's step (finite, >= 0; 1 keeps it constant,
	// exactly).
	LearningRateDecay float64
	Reg               float64 // L2 regularisation strength (finite, >= 0)
	NumIters          int     // iterations (>= 0)
	BatchSize         int     // examples per mini-batch, drawn with replacement (> 0)
	// StartIteration resumes a run: iterations StartIteration..NumIters-1
	// are run. NewState starts there; Run starts at its State's Iteration.
	StartIteration int
	// Update names the update rule, one of Rules; "" is "sgd".
	Update string
}

// Check returns an error naming the first setting that is out of range:
// NumIters < 0, BatchSize outside [1, MaxBatchSize], a non-finite
// LearningRate, a negative or non-finite Reg, StartIteration outside
// [0, NumIters], a negative or non-finite LearningRateDecay, an unknown
// Update rule.
func (c *Config) Check() error {
	switch {
	case c.NumIters < 0:
		return fmt.Errorf("NumIters=%d is negative", c.NumIters)
	case c.BatchSize <= 0:
		return fmt.Errorf("BatchSize=%d must be positive", c.BatchSize)
	case c.BatchSize > MaxBatchSize:
		return fmt.Errorf("BatchSize=%d exceeds %d (the batch buffer is BatchSize × D)", c.BatchSize, MaxBatchSize)
	case !finite(c.LearningRate):
		return fmt.Errorf("LearningRate=%v is not finite", c.LearningRate)
	case !finite(c.Reg) || c.Reg < 0:
		return fmt.Errorf("Reg=%v must be finite and >= 0", c.Reg)
	case c.StartIteration < 0 || c.StartIteration > c.NumIters:
		return fmt.Errorf("StartIteration=%d out of range [0, NumIters=%d]", c.StartIteration, c.NumIters)
	case !finite(c.LearningRateDecay) || c.LearningRateDecay < 0:
		return fmt.Errorf("LearningRateDecay=%v must be finite and >= 0", c.LearningRateDecay)
	case c.Update != "" && !slices.Contains(Rules, c.Update):
		return fmt.Errorf("Update=%q is not an update rule (want one of %s)", c.Update, strings.Join(Rules, ", "))
	}
	return nil
}

// EpochLength is the number of iterations in an epoch of n training rows
// in mini-batches of batch rows: max(n/batch, 1). Iteration it ends an
// epoch (records accuracies, decays the learning rate) when it is a
// multiple of it.
func EpochLength(n, batch int) int { return max(n/batch, 1) }

// LearningRateAt returns the learning rate in effect at the start of
// iteration it: LearningRate decayed once for every epoch boundary before
// it, multiplied in the order the loop multiplies it.
func (c *Config) LearningRateAt(it, epochLen int) float64 {
	lr := c.LearningRate
	for i := 0; i < it; i++ {
		if i%epochLen == 0 {
			lr *= c.LearningRateDecay
		}
	}
	return lr
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// isSGD reports whether rule names vanilla SGD.
func isSGD(rule string) bool { return rule == "" || rule == "sgd" }
