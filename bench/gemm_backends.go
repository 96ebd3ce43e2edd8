package bench

import "github.com/nnkern/nnkern/blas"

// gemmBackend is one way to run blas.Gemm.
type gemmBackend struct {
	name string
	// use switches blas.Gemm to the backend and returns the restore.
	use func() (restore func(), err error)
	// threaded says whether the backend uses more than one thread.
	threaded bool
	// maxFLOPs excludes shapes too large to time in a default run (0: no limit).
	maxFLOPs float64
	// slowFLOPs marks larger shapes Slow (run only when --filter names them).
	slowFLOPs float64
	// isa names what the backend dispatched (nil: kernels.ISA()).
	isa func() string
}

// gemmBackends lists the backends compiled in. Until package blas has a
// backend switch this is the reference blas.Gemm alone.
func gemmBackends() []gemmBackend {
	return []gemmBackend{{
		name:     "ref",
		use:      func() (func(), error) { return func() {}, nil },
		maxFLOPs: 1e9, // the reference triple loop runs at ~1 GFLOP/s
		isa:      func() string { return "generic" },
	}}
}

var _ = blas.Gemm[float32]
