package pool

import (
	"cmp"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nnkern/nnkern/internal/skiplog"
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

// TestGroupRunNoAlloc: testing.AllocsPerRun runs at GOMAXPROCS 1, where
// Run calls the tasks in a loop; the pooled path is checked by the
// process-wide malloc count around steps at GOMAXPROCS 2 and 3. One
// allocation per step would count calls; up to calls/10 is tolerated for
// the runtime's own (a sudog made when the caller parks on done or a
// worker on the queue after a GC cycle emptied the sudog caches).
func TestGroupRunNoAlloc(t *testing.T) {
	var g Group
	out := make([]int, 16)
	f := func(i int) { out[i] = i * i }
	g.Run(16, f)
	if a := testing.AllocsPerRun(100, func() { g.Run(16, f) }); a != 0 {
		t.Fatalf("Group.Run allocates %v times per call at GOMAXPROCS 1", a)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		for range 10 {
			g.Run(16, f)
		}
		const calls = 400
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range calls {
			g.Run(16, f)
		}
		runtime.ReadMemStats(&m1)
		if n := m1.Mallocs - m0.Mallocs; n > calls/10 {
			t.Fatalf("GOMAXPROCS=%d: %d allocations in %d steps of Group.Run", procs, n, calls)
		}
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

// TestGroupRunWaitsForStartedTasks: tasks long enough (1 ms) that a
// worker is still in one when the caller runs out of tasks to take; Run
// must not return before it has finished. (TestGroupReuse's tasks are so
// short that a Run that did not wait for the done signal passed it.)
//
// The caller polls for the done signal for up to the spin wait before it
// sleeps on it (Group.wait), so the test runs tasks that end after the
// poll (1 ms sleeps), within it (20 µs of busy work), and with polling
// off.
func TestGroupRunWaitsForStartedTasks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, tc := range []struct {
		name string
		spin time.Duration
		task func()
	}{
		{"sleep1ms", defaultSpinWait, func() { time.Sleep(time.Millisecond) }},
		{"busy20us", defaultSpinWait, func() { busyFor(20 * time.Microsecond) }},
		{"busy20us/spin=0", 0, func() { busyFor(20 * time.Microsecond) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer SetSpinWait(SetSpinWait(tc.spin))
			testRunWaits(t, tc.task)
		})
	}
}

// busyFor returns after d, without sleeping.
func busyFor(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}

func testRunWaits(t *testing.T, task func()) {
	var g Group
	overlapped := false
	// Until two tasks have run at once, for up to a second (a worker
	// that slept may take tens of µs to join a step of 20 µs tasks).
	for t0 := time.Now(); !overlapped && time.Since(t0) < time.Second; {
		const n = 6
		var finished [n]atomic.Bool
		var running, most atomic.Int32
		g.Run(n, func(i int) {
			if r := running.Add(1); r > most.Load() {
				most.Store(r)
			}
			task()
			finished[i].Store(true)
			running.Add(-1)
		})
		for i := range finished {
			if !finished[i].Load() {
				t.Fatalf("Run returned before task %d finished", i)
			}
		}
		overlapped = most.Load() > 1
	}
	if !overlapped {
		skiplog.Skip(t, "pool overlap check", "no two tasks ran at once in a second of steps (machine too busy)")
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

// withSpin sets SpinWait for one test.
func withSpin(t *testing.T, d time.Duration) {
	old := SetSpinWait(d)
	t.Cleanup(func() { SetSpinWait(old) })
}

// TestGroupSpinSettings runs the reuse pattern with workers that sleep at
// once, poll briefly and poll for long: the tasks do not depend on it.
func TestGroupSpinSettings(t *testing.T) {
	for _, d := range []time.Duration{0, time.Microsecond, 200 * time.Microsecond} {
		withSpin(t, d)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
		var g Group
		for s := 0; s < 500; s++ {
			n := 1 + s%17
			counts := make([]atomic.Int32, n)
			g.Run(n, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("SpinWait=%v step %d: task %d ran %d times", d, s, i, c)
				}
			}
			if s%100 == 99 {
				time.Sleep(2 * d) // let the workers go to sleep now and then
			}
		}
	}
}

// TestSpinnersCappedAndStop checks that at most min(GOMAXPROCS, NumCPU)−1
// workers poll at once, however many workers there are, and that they
// all stop polling once SpinWait has passed without work (a worker that
// never stops would burn a core for the life of the process).
func TestSpinnersCappedAndStop(t *testing.T) {
	withSpin(t, 20*time.Millisecond)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	limit := int32(min(8, runtime.NumCPU()) - 1)
	// A worker still polling with an earlier test's shorter spin wait
	// holds a slot that the workers of the steps below then do not get:
	// wait until it is done.
	for deadline := time.Now().Add(5 * time.Second); spinners.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still polling 5 s after the previous test", spinners.Load())
		}
	}
	var g Group
	var seen atomic.Int32
	for s := 0; s < 50; s++ {
		g.Run(16, func(int) {
			seen.Store(max(seen.Load(), spinners.Load()))
		})
		if n := spinners.Load(); n > max(limit, 0) {
			t.Fatalf("%d workers polling, limit %d", n, limit)
		}
	}
	if limit > 0 {
		// a worker is polling now, and goes on for the spin wait
		time.Sleep(2 * time.Millisecond)
		if n := spinners.Load(); n < 1 || n > limit {
			t.Fatalf("2 ms after the last step %d workers poll, want 1..%d (spin wait 20 ms)", n, limit)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for spinners.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still polling 5 s after the last step (spin wait %v)", spinners.Load(), time.Duration(spinWait.Load()))
		}
		time.Sleep(time.Millisecond)
	}
	if seen.Load() > max(limit, 0) {
		t.Fatalf("a task saw %d workers polling, limit %d", seen.Load(), limit)
	}
}

// TestTakeSlotNeverOverLimit hammers takeSlot from more goroutines than
// slots: the count must never exceed the limit, even for a moment
// (TestSpinnersCappedAndStop reads the live count; a taker that counted
// itself before finding no slot free made it fail now and then).
func TestTakeSlotNeverOverLimit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var c atomic.Int32
	if takeSlot(&c, 0) {
		t.Fatal("takeSlot granted a slot with limit 0")
	}
	if !takeSlot(&c, 1) || takeSlot(&c, 1) {
		t.Fatal("takeSlot with limit 1: want the first call granted, the second refused")
	}
	c.Add(-1)
	if c.Load() != 0 {
		t.Fatalf("count %d after a refused takeSlot and one release, want 0", c.Load())
	}
	// Slot holders read the count while they hold it, as a test of the
	// live count does; refused takers must not show up in it.
	const limit, takers, rounds = 1, 3, 1000000
	var worst atomic.Int32
	start, done := make(chan struct{}), make(chan struct{})
	for range takers {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			for range rounds {
				if !takeSlot(&c, limit) {
					continue
				}
				for range 20 {
					if n := c.Load(); n > worst.Load() {
						worst.Store(n)
					}
				}
				c.Add(-1)
			}
		}()
	}
	close(start)
	for range takers {
		<-done
	}
	if w := worst.Load(); w > limit {
		t.Fatalf("the slot count reached %d, limit %d", w, limit)
	}
	if n := c.Load(); n != 0 {
		t.Fatalf("count %d after every slot was released, want 0", n)
	}
}

func TestSpinWaitFromEnv(t *testing.T) {
	for _, c := range []struct {
		env     string
		set     bool
		want    time.Duration
		wantErr bool
	}{
		{"", false, defaultSpinWait, false},
		{"0", true, 0, false},
		{"20us", true, 20 * time.Microsecond, false},
		{"1s", true, time.Second, false},
		{"2s", true, defaultSpinWait, true},
		{"-5us", true, defaultSpinWait, true},
		{"fast", true, defaultSpinWait, true},
	} {
		if c.set {
			t.Setenv("NNKERN_POOL_SPIN", c.env)
		} else {
			t.Setenv("NNKERN_POOL_SPIN", "x")
			os.Unsetenv("NNKERN_POOL_SPIN")
		}
		got, err := spinWaitFromEnv()
		if got != c.want {
			t.Errorf("NNKERN_POOL_SPIN=%q (set %v): %v, want %v", c.env, c.set, got, c.want)
		}
		if (err != nil) != c.wantErr {
			t.Errorf("NNKERN_POOL_SPIN=%q (set %v): error %v, want an error: %v", c.env, c.set, err, c.wantErr)
		}
		if err != nil && (!strings.Contains(err.Error(), "NNKERN_POOL_SPIN") || !strings.Contains(err.Error(), strconv.Quote(c.env))) {
			t.Errorf("NNKERN_POOL_SPIN=%q: error %q does not name the variable and its value", c.env, err)
		}
	}
}

// TestMaxWorkersCaps runs steps of slow tasks at GOMAXPROCS 4 under caps
// 1, 2 and none, from one goroutine and from two at once, and checks how
// many tasks ever ran at once: never more than the cap plus the other
// callers (each caller runs tasks of its own step; the pool's workers
// share cap−1 slots), and under cap 1 every task on its caller's
// goroutine. Without a cap two tasks must overlap at least once (else the
// test could not see a cap that does nothing).
func TestMaxWorkersCaps(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer SetMaxWorkers(SetMaxWorkers(0))
	if SetMaxWorkers(-3); Workers() != 4 {
		t.Errorf("SetMaxWorkers(-3) did not remove the cap: Workers() = %d at GOMAXPROCS 4", Workers())
	}
	withSpin(t, 200*time.Microsecond)
	overlapped := false
	for _, limit := range []int{1, 2, 0} {
		SetMaxWorkers(limit)
		if w, want := Workers(), cmp.Or(limit, 4); w != want {
			t.Fatalf("SetMaxWorkers(%d) at GOMAXPROCS 4: Workers() = %d, want %d", limit, w, want)
		}
		for _, callers := range []int{1, 2} {
			var running, most atomic.Int32
			var offCaller atomic.Bool
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					var g Group
					caller := goid()
					for range 20 {
						g.Run(8, func(int) {
							if goid() != caller {
								offCaller.Store(true)
							}
							r := running.Add(1)
							for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
							}
							time.Sleep(100 * time.Microsecond)
							running.Add(-1)
						})
					}
				})
			}
			wg.Wait()
			m := int(most.Load())
			if limit > 0 && m > limit+callers-1 {
				t.Errorf("SetMaxWorkers(%d), %d callers: %d tasks ran at once", limit, callers, m)
			}
			if limit == 1 && offCaller.Load() {
				t.Errorf("SetMaxWorkers(1), %d callers: a task ran on a pool worker", callers)
			}
			if limit == 0 && callers == 1 {
				overlapped = m > 1
			}
		}
	}
	if !overlapped {
		skiplog.Skip(t, "pool cap check", "no two tasks ran at once in 20 uncapped steps (machine too busy)")
	}
}

// goid returns the current goroutine's id, from its stack header.
func goid() string {
	var buf [64]byte
	f := strings.Fields(string(buf[:runtime.Stack(buf[:], false)]))
	return f[1]
}

// TestGroupNestedRun runs steps whose tasks run steps of other Groups (as
// a blas Gemm inside a softmax loss task does): every inner and outer task
// runs once and nothing deadlocks, for any GOMAXPROCS and spin setting.
func TestGroupNestedRun(t *testing.T) {
	for _, d := range []time.Duration{0, 50 * time.Microsecond} {
		withSpin(t, d)
		for _, procs := range []int{1, 2, 3, 8} {
			prev := runtime.GOMAXPROCS(procs)
			const outer, inner = 6, 9
			var groups [outer]Group
			var counts [outer][inner]atomic.Int32
			done := make(chan struct{})
			go func() {
				defer close(done)
				var g Group
				for rep := 0; rep < 50; rep++ {
					g.Run(outer, func(i int) {
						groups[i].Run(inner, func(j int) { counts[i][j].Add(1) })
					})
				}
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("SpinWait=%v GOMAXPROCS=%d: nested Run did not finish in 20 s", d, procs)
			}
			runtime.GOMAXPROCS(prev)
			for i := range counts {
				for j := range counts[i] {
					if c := counts[i][j].Load(); c != 50 {
						t.Fatalf("SpinWait=%v GOMAXPROCS=%d: inner task %d/%d ran %d times in 50 steps", d, procs, i, j, c)
					}
				}
			}
		}
	}
}

// BenchmarkGroupRun: one step of two empty tasks, back to back (the
// hand-off cost), with workers that sleep at once and with polling ones.
func BenchmarkGroupRun(b *testing.B) {
	for _, d := range []time.Duration{0, defaultSpinWait} {
		b.Run("spin="+d.String(), func(b *testing.B) {
			defer SetSpinWait(SetSpinWait(d))
			var g Group
			f := func(int) {}
			for b.Loop() {
				g.Run(2, f)
			}
		})
	}
}
