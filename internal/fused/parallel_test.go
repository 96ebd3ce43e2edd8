package fused

import (
	"runtime"
	"sync/atomic"
	"testing"
)

func TestGroupRunsEveryTaskOnce(t *testing.T) {
	var g Group
	for _, procs := range []int{1, 2, 3, 8} {
		prev := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 7, 100} {
			counts := make([]atomic.Int32, n)
			g.Run(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("GOMAXPROCS=%d n=%d: task %d ran %d times", procs, n, i, c)
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}

func TestGroupRunNoAlloc(t *testing.T) {
	var g Group
	out := make([]int, 16)
	f := func(i int) { out[i] = i * i }
	g.Run(16, f)
	if a := testing.AllocsPerRun(100, func() { g.Run(16, f) }); a != 0 {
		t.Fatalf("Group.Run allocates %v times per call", a)
	}
}
