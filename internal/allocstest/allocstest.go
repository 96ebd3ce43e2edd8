// Package allocstest holds a test helper for the allocation-free claims of
// code that runs on nnkern's worker pool (internal/pool). It imports no
// nnkern package, so any package's tests can use it:
//
//	allocstest.CheckParallel(t, "pairs of Gemm", []int{2, 3}, 10, 40, 20, run)
package allocstest

import (
	"runtime"
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
