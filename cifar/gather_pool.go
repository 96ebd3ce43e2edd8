package cifar

import (
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/pool"
	"github.com/nnkern/nnkern/kernels"
)

// A mini-batch gather writes a few MB (200×3073 float64 is 4.9 MB), more
// than one core's stores move quickly; large gathers are split into row
// blocks run as one pool.Group step, so Gather stays allocation-free. The
// caller takes blocks too and never waits for a worker that has not
// started (a sleeping thread can take tens of µs to wake), so a gather is
// never much slower than doing it alone. The result does not depend on the
// split (every element is computed the same way by the same kernel).
// Concurrent Gathers do not queue: a caller that finds the step busy does
// its rows alone.

// parallelGatherBytes is the size of dst (bytes) from which Gather splits
// the rows: the notebooks' 200×3073 batch (2.5 MB float32, 4.9 MB float64)
// is worth two cores once the pool's workers poll between steps
// (internal/pool), while the 32-row blocks the fused softmax trainer
// gathers inside its own parallel chunks (at most 786 KB) stay serial.
// Split, the 200-row gather ran 1.4–1.8× faster (docs/performance.md).
const parallelGatherBytes = 1 << 20

// gatherTasks is how many row blocks a parallel gather is cut into: more
// blocks than workers, so a worker that starts late or is descheduled
// leaves its share to the others (8 to 16 did best of 2 to 16).
const gatherTasks = 16

// gatherStep is the state of one parallel gather; task is its bound run
// method, made once so Run does not allocate.
type gatherStep[T kernels.Float] struct {
	mu   sync.Mutex
	g    pool.Group
	task func(int)
	p    *Prepared
	s    *Split
	idx  []int
	dst  blas.Matrix[T]
	n    int
}

func (st *gatherStep[T]) run(k int) {
	m := len(st.idx)
	gatherRows(st.p, st.s, st.idx, st.dst, k*m/st.n, (k+1)*m/st.n)
}

var gatherSteps struct {
	f32 gatherStep[float32]
	f64 gatherStep[float64]
}

// gatherParallel gathers in gatherTasks row blocks on the shared worker
// pool; false if the pool has one worker (GOMAXPROCS 1 or
// blas.SetMaxWorkers(1)) or the step for T is busy (another goroutine is
// gathering).
func gatherParallel[T kernels.Float](p *Prepared, s *Split, idx []int, dst blas.Matrix[T]) bool {
	var st *gatherStep[T]
	switch v := any(&gatherSteps.f32).(type) {
	case *gatherStep[T]:
		st = v
	default:
		st = any(&gatherSteps.f64).(*gatherStep[T])
	}
	if pool.Workers() < 2 || !st.mu.TryLock() {
		return false // one row pass keeps the prefetch pipeline going
	}
	defer st.mu.Unlock()
	if st.task == nil {
		st.task = st.run
	}
	st.p, st.s, st.idx, st.dst, st.n = p, s, idx, dst, min(gatherTasks, len(idx))
	st.g.Run(st.n, st.task)
	// Drop the references so the step does not keep a dataset alive.
	st.p, st.s, st.idx, st.dst = nil, nil, nil, blas.Matrix[T]{}
	return true
}
