package fused

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
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

// TestGroupReuse runs many short steps of one Group back to back with
// changing task counts and GOMAXPROCS, so that workers woken for an earlier
// step arrive late: every task of every step must run exactly once, before
// its Run returns (run it with -race too).
func TestGroupReuse(t *testing.T) {
	var g Group
	const steps = 3000
	counts := make([]atomic.Int32, 64)
	var step atomic.Int64
	for s := 0; s < steps; s++ {
		if s%500 == 0 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS([]int{2, 3, 8, 2, 1, 4}[s/500]))
		}
		n := 1 + s%len(counts)
		want := int64(s)
		step.Store(want)
		g.Run(n, func(i int) {
			if step.Load() != want {
				t.Errorf("task %d of step %d ran during step %d", i, want, step.Load())
			}
			counts[i].Add(1)
		})
		for i := range counts {
			c := counts[i].Swap(0)
			if (i < n && c != 1) || (i >= n && c != 0) {
				t.Fatalf("step %d, n=%d: task %d ran %d times by the time Run returned", s, n, i, c)
			}
		}
	}
}

// TestGroupDoesNotWaitForBusyWorkers keeps every pool worker busy in a
// task of another Group and checks that Run on a second Group still
// returns: its caller runs all the tasks and does not wait for a worker
// to pick up the step.
func TestGroupDoesNotWaitForBusyWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	ensureWorkers(1)
	poolMu.Lock()
	workers := poolSize
	poolMu.Unlock()
	runtime.GOMAXPROCS(workers + 1)
	// wake-ups left over from earlier tests must not fill the queue
	for deadline := time.Now().Add(10 * time.Second); len(jobs) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d stale worker wake-ups not consumed in 10 s", len(jobs))
		}
	}
	var busy Group
	release := make(chan struct{})
	var started atomic.Int32
	busyDone := make(chan struct{})
	go func() {
		busy.Run(workers+1, func(int) {
			started.Add(1)
			<-release
		})
		close(busyDone)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for started.Load() < int32(workers+1) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d of %d blocking tasks started", started.Load(), workers+1)
		}
		time.Sleep(time.Millisecond)
	}
	var g Group
	ran := make([]bool, 5)
	done := make(chan struct{})
	go func() {
		g.Run(len(ran), func(i int) { ran[i] = true })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatalf("Group.Run waited for a busy worker (%d workers, all in another Group's tasks)", workers)
	}
	close(release)
	<-busyDone
	for i, r := range ran {
		if !r {
			t.Errorf("task %d did not run", i)
		}
	}
}

func TestGroupRunTooManyTasks(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Group.Run(MaxTasks+1) did not panic")
		}
	}()
	var g Group
	g.Run(MaxTasks+1, func(int) {})
}
