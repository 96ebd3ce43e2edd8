package cifar

import (
	"runtime"
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// A mini-batch gather writes a few MB (200×3073 float64 is 4.9 MB), more
// than one core's store bandwidth moves quickly; large gathers are split
// over a small persistent worker pool, so Gather stays allocation-free.
// The result does not depend on the split (every element is computed the
// same way by the same kernel). Concurrent Gathers do not queue: a caller
// that finds the pool busy does its rows alone.

// parallelGatherBytes is the size of dst (bytes) from which Gather splits
// the rows over the pool. On the 2-core Zen 3 dev machine (nnkern bench
// data/gather, idle, medians): a 200×3073 float64 batch (4.9 MB) took 198 µs
// on two cores vs 240 µs on one, but the float32 batch (2.5 MB) 194 µs vs
// 120 µs: below a few MB the hand-off and the cores' shared store bandwidth
// cost more than the split gains. The 32-row blocks the fused softmax
// trainer gathers from its own parallel chunks stay serial too.
const parallelGatherBytes = 4 << 20

type gatherJob struct {
	p      *Prepared
	s      *Split
	idx    []int
	dst32  blas.Matrix[float32]
	dst64  blas.Matrix[float64]
	is32   bool
	lo, hi int
}

type gatherWorker struct {
	jobs chan gatherJob
	done chan struct{}
}

var gatherPool struct {
	mu      sync.Mutex
	workers []gatherWorker
}

// maxGatherParts caps the goroutines one gather uses: past a few, the
// cores' shared store bandwidth is the limit.
const maxGatherParts = 8

func startGatherWorker() gatherWorker {
	w := gatherWorker{jobs: make(chan gatherJob, 1), done: make(chan struct{}, 1)}
	go func() {
		for j := range w.jobs {
			if j.is32 {
				gatherRows(j.p, j.s, j.idx, j.dst32, j.lo, j.hi)
			} else {
				gatherRows(j.p, j.s, j.idx, j.dst64, j.lo, j.hi)
			}
			w.done <- struct{}{}
		}
	}()
	return w
}

// gatherParallel gathers with the pool, in min(GOMAXPROCS, 8) parts (the
// pool grows to the current GOMAXPROCS); false if GOMAXPROCS is 1 or the
// pool is busy.
func gatherParallel[T kernels.Float](p *Prepared, s *Split, idx []int, dst blas.Matrix[T]) bool {
	procs := min(runtime.GOMAXPROCS(0), maxGatherParts)
	if procs < 2 || !gatherPool.mu.TryLock() {
		return false
	}
	defer gatherPool.mu.Unlock()
	for len(gatherPool.workers) < procs-1 {
		gatherPool.workers = append(gatherPool.workers, startGatherWorker())
	}
	workers := gatherPool.workers[:procs-1]
	n := len(idx)
	parts := len(workers) + 1
	var job gatherJob
	job.p, job.s, job.idx = p, s, idx
	switch d := any(&dst).(type) {
	case *blas.Matrix[float32]:
		job.dst32, job.is32 = *d, true
	case *blas.Matrix[float64]:
		job.dst64 = *d
	}
	for k, w := range workers {
		job.lo, job.hi = n*(k+1)/parts, n*(k+2)/parts
		w.jobs <- job
	}
	gatherRows(p, s, idx, dst, 0, n/parts)
	for _, w := range workers {
		<-w.done
	}
	return true
}
