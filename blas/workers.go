package blas

import (
	"time"

	"github.com/nnkern/nnkern/internal/pool"
)

// SetMaxWorkers caps the threads nnkern computes on at n and returns the
// previous cap (0: none); n <= 0 removes the cap. Without a cap a parallel
// step uses up to GOMAXPROCS goroutines. The cap holds for every parallel
// step of the library, which all run on one shared pool of worker
// goroutines: the native Gemm (and so the models' forward and backward
// passes), softmax's fused loss and the cifar mini-batch gather. A step
// runs on its caller's goroutine and at most n−1 pool workers, and the
// pool never runs more than n−1 of them at once, so a server that calls
// nnkern from c goroutines at a time keeps it to c+n−1 threads (n−1 with
// SetMaxWorkers(1): every step on its caller alone).
//
// Reproducibility: none of the native backend's results depend on the
// number of workers (each element is computed in one fixed order whatever
// the partition), so a cap changes the speed only, never a bit of a
// result or of a seeded training. The gonum and OpenBLAS backends do not
// use the pool: OpenBLAS's threads follow GOMAXPROCS.
//
// Safe to call at any time, from any goroutine: steps running keep their
// workers, the next ones follow the new cap.
//
//	defer blas.SetMaxWorkers(blas.SetMaxWorkers(2)) // two threads per call, restored after
func SetMaxWorkers(n int) (prev int) { return pool.SetMaxWorkers(n) }

// SetSpinWait sets how long the pool's idle workers poll for the next
// parallel step before they sleep, and how long the goroutine that runs a
// parallel step polls for the workers to finish it before it sleeps, and
// returns the previous setting; 0 (or less) makes them sleep at once. The
// default is 50µs, or the NNKERN_POOL_SPIN environment variable. Polling
// makes the short steps of a training iteration start sooner (waking a
// sleeping thread takes tens of µs on a virtual machine) and keeps the
// calling goroutine on its core, with the data of its share of the step
// (one that slept was woken on a worker's core), at the price of CPU time
// a server may want for other work; at most min(GOMAXPROCS, the cap,
// CPUs)−1 idle workers poll at once. It changes no result. Safe to call
// at any time.
func SetSpinWait(d time.Duration) (prev time.Duration) { return pool.SetSpinWait(d) }
