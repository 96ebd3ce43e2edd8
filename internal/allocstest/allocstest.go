// Package allocstest holds test helpers that count allocations: one for the
// allocation-free claims of code that runs on nnkern's worker pool
// (internal/pool), and one for the fuzz targets of the file readers, which
// assert that the bytes a call allocates are bounded by its input. It
// imports no nnkern package, so any package's tests can use it:
//
//	allocstest.CheckParallel(t, "pairs of Gemm", []int{2, 3}, 10, 40, 20, run)
//	allocstest.Bound(t, "readIDX", 3*uint64(len(data))+3<<20, func() { ... })
package allocstest

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// CheckParallel guards the allocation-free claim of code that runs
// on the worker pool, which testing.AllocsPerRun cannot (it sets
// GOMAXPROCS to 1): for each GOMAXPROCS in procs it runs run warm times
// (to start workers and fill caches), then counts the heap allocations
// (runtime.MemStats.Mallocs) of calls more runs and fails t, naming what,
// if there are more than limit. The Go runtime itself allocates a little
// now and then while goroutines park and wake, so limit is a small
// budget, not zero; one allocation per call in the code under test
// exceeds it. The runtime's share comes in bursts (a GC cycle empties
// its caches), so the count is taken up to three times and the smallest
// is judged: code that allocates per call exceeds the budget every time.
// GOMAXPROCS is restored.
func CheckParallel(t testing.TB, what string, procs []int, warm, calls int, limit uint64, run func()) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, p := range procs {
		runtime.GOMAXPROCS(p)
		for range warm {
			run()
		}
		best := ^uint64(0)
		for attempt := 0; attempt < 3 && best > limit; attempt++ {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for range calls {
				run()
			}
			runtime.ReadMemStats(&m1)
			best = min(best, m1.Mallocs-m0.Mallocs)
		}
		if best > limit {
			t.Errorf("GOMAXPROCS=%d: %d allocations in %d calls of %s, the fewest of 3 counts (budget %d)", p, best, calls, what, limit)
		}
	}
}

// Bytes returns the fewest bytes f allocated in up to three calls,
// stopping at the first count within limit. It reads the runtime/metrics
// counter /gc/heap/allocs:bytes, which needs no stop-the-world
// (runtime.ReadMemStats stalls fuzz workers); small allocations reach
// that counter a span at a time, so a count is within a few hundred KB.
// The runtime (and a fuzzing worker) allocates now and then on its own, in
// bursts, so the smallest count is the one to judge: f must start from
// scratch each call, and code that allocates beyond a bound does so every
// time.
func Bytes(limit uint64, f func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	best := ^uint64(0)
	for attempt := 0; attempt < 3 && best > limit; attempt++ {
		metrics.Read(sample)
		a := sample[0].Value.Uint64()
		f()
		metrics.Read(sample)
		best = min(best, sample[0].Value.Uint64()-a)
	}
	return best
}

// Bound fails t, naming what, when f allocates more than limit bytes in
// each of up to three calls (see Bytes). Fuzz targets use it to assert
// that a reader's allocations are bounded by its input size.
func Bound(t testing.TB, what string, limit uint64, f func()) {
	t.Helper()
	if n := Bytes(limit, f); n > limit {
		t.Fatalf("%s allocated %d bytes, more than the bound %d", what, n, limit)
	}
}
