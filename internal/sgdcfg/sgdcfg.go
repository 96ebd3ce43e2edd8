// Package sgdcfg checks the settings that every nnkern SGD trainer shares
// (softmax.TrainConfig, twolayer.TrainConfig), so the trainers reject bad
// configurations with the same messages and the same allocation bounds.
//
//	if err := sgdcfg.Check(cfg.NumIters, cfg.BatchSize, cfg.StartIteration, cfg.LearningRate, cfg.Reg); err != nil {
//		return fmt.Errorf("softmax.Train: %w", err)
//	}
package sgdcfg

import (
	"fmt"
	"math"
)

// Bounds that keep a bad configuration from allocating without limit.
const (
	// MaxBatchSize is the largest BatchSize accepted (the batch buffer is
	// BatchSize × D).
	MaxBatchSize = 1 << 24
	// MaxHistPrealloc is the most loss-history entries allocated up front;
	// a longer run appends beyond it.
	MaxHistPrealloc = 1 << 20
)

// Finite reports whether x is neither NaN nor ±Inf.
func Finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Check returns an error naming the first shared setting that is out of
// range: NumIters < 0, BatchSize outside [1, MaxBatchSize], a non-finite
// LearningRate, a negative or non-finite Reg, StartIteration outside
// [0, NumIters].
func Check(numIters, batchSize, startIteration int, learningRate, reg float64) error {
	switch {
	case numIters < 0:
		return fmt.Errorf("NumIters=%d is negative", numIters)
	case batchSize <= 0:
		return fmt.Errorf("BatchSize=%d must be positive", batchSize)
	case batchSize > MaxBatchSize:
		return fmt.Errorf("BatchSize=%d exceeds %d (the batch buffer is BatchSize × D)", batchSize, MaxBatchSize)
	case !Finite(learningRate):
		return fmt.Errorf("LearningRate=%v is not finite", learningRate)
	case !Finite(reg) || reg < 0:
		return fmt.Errorf("Reg=%v must be finite and >= 0", reg)
	case startIteration < 0 || startIteration > numIters:
		return fmt.Errorf("StartIteration=%d out of range [0, NumIters=%d]", startIteration, numIters)
	}
	return nil
}
