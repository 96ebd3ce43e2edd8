// Package pool is nnkern's one set of worker goroutines: the blas GEMM,
// the fused softmax loss and the cifar mini-batch gather all run their
// parallel steps on it, through Group.
//
//	var g pool.Group // keep it with the workspace; Run does not allocate
//	g.Run(len(parts), func(i int) { work(parts[i]) })
//
// Workers that finish a step poll for the next one for a while (50 µs;
// NNKERN_POOL_SPIN, SetSpinWait; a bad NNKERN_POOL_SPIN is reported by
// kernels.EnvError, never printed) before they sleep: a sleeping thread
// takes tens of µs to wake on a virtual machine, longer than many steps
// of a training iteration take to run. The caller of Run likewise polls
// for the end of its step before it sleeps, which also keeps it on its
// core (see Group.wait).
// One pool for everything means the worker that polls is the one that
// takes the next step, whichever package it comes from. The steps of one
// Run use up to GOMAXPROCS goroutines, or fewer under SetMaxWorkers
// (public as blas.SetMaxWorkers).
package pool

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nnkern/nnkern/internal/envcheck"
)

// Group runs the tasks 0..n-1 of one parallel step on a shared pool of
// worker goroutines, without allocating: keep a Group in a workspace and
// call Run on it for every step. Which goroutine runs a task is up to the
// scheduler, so tasks must write to disjoint memory; a result that must not
// depend on GOMAXPROCS is computed per task (a fixed partition of the work)
// and combined by the caller in task order.
//
// Run waits for the tasks, not for the workers: the caller takes tasks
// too, and a worker that has not started by the time every task has been
// taken (its thread not yet woken, or its core busy with another process)
// is not waited for; when it runs it joins the step then running, if any,
// or goes back to sleep. So a step never takes longer than the caller
// running every task itself plus the tasks already started elsewhere.
//
// A Group runs one step at a time: Run must not be called on a Group whose
// step is running, from a task of that step or from another goroutine
// (guard it, as blas does with one Group per pooled job). A task may run
// steps of other Groups (a parallel blas.Gemm inside a softmax loss task
// does): the caller of the inner Run only ever waits for inner tasks that
// have started, so nesting cannot deadlock (TestGroupNestedRun).
type Group struct {
	// state is the step generation (high 32 bits), the number of tasks
	// of the step (16 bits) and the next task to hand out (low 16 bits),
	// one word so that a worker woken for an earlier step never reads the
	// task count of a later one: it claims a task by a compare-and-swap
	// that fails once the step it was woken for is over.
	state atomic.Uint64
	left  atomic.Int64 // tasks of the current step not yet finished
	f     func(int)
	done  chan struct{} // the worker that finishes the last task signals the caller
}

const (
	groupTaskBits = 16
	groupGenShift = 2 * groupTaskBits
	groupTaskMask = 1<<groupTaskBits - 1
	// MaxTasks is the most tasks one Group.Run accepts.
	MaxTasks = groupTaskMask
)

var (
	poolMu   sync.Mutex
	poolSize int
	jobs     = make(chan *Group, 256)
)

// ensureWorkers starts worker goroutines until there are at least n. They
// live for the life of the process, poll for work for the spin wait after
// each step and then sleep on a channel.
func ensureWorkers(n int) {
	poolMu.Lock()
	for poolSize < n {
		poolSize++
		go worker()
	}
	poolMu.Unlock()
}

func worker() {
	for {
		g := nextStep()
		// Without a free slot the wake-up is dropped: Run never waits
		// for a worker that has not started a task.
		if !takeSlot(&active, int32(Workers()-1)) {
			continue
		}
		last := g.work()
		active.Add(-1)
		if last {
			g.done <- struct{}{}
		}
	}
}

// spinWait is how long a worker polls for the next step after finishing
// one before it sleeps, and how long the caller of Run polls for the end
// of its step (Group.wait) (a time.Duration). It starts from NNKERN_POOL_SPIN
// (a Go duration such as "50us"; "0" never polls), read once when the
// package starts; SetSpinWait changes it.
//
// The default, 50 µs, lies in the 20–100 µs range that made a two-core
// 200×3073 float64 gather ~1.4× faster than sleeping workers did (cifar
// BenchmarkGather, docs/performance.md).
var spinWait atomic.Int64

// envErr is the error of a bad NNKERN_POOL_SPIN, reported through
// kernels.EnvError (the package prints nothing: it is a guest in the
// programs that embed it).
var envErr error

func init() {
	d, err := spinWaitFromEnv()
	spinWait.Store(int64(d))
	envErr = err
	envcheck.Register(spinEnvVar, func() error { return envErr })
}

// SetSpinWait sets how long idle workers poll before they sleep (0: they
// sleep at once; negative counts as 0) and returns the previous setting.
// Safe to call at any time: a worker polling now keeps its spin wait, the
// next one to finish a step uses the new one.
func SetSpinWait(d time.Duration) time.Duration {
	return time.Duration(spinWait.Swap(int64(max(d, 0))))
}

const (
	spinEnvVar      = "NNKERN_POOL_SPIN"
	defaultSpinWait = 50 * time.Microsecond
)

// spinWaitFromEnv returns the spin wait NNKERN_POOL_SPIN sets, or the
// default and an error naming the variable for a value that is not a
// duration in [0, 1s].
func spinWaitFromEnv() (time.Duration, error) {
	v, ok := os.LookupEnv(spinEnvVar)
	if !ok {
		return defaultSpinWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > time.Second {
		return defaultSpinWait, fmt.Errorf("%s=%q: want a duration in [0, 1s] such as 50us (idle workers poll for %v instead)", spinEnvVar, v, defaultSpinWait)
	}
	return d, nil
}

// maxWorkers caps Workers; 0 means no cap (SetMaxWorkers).
var maxWorkers atomic.Int32

// SetMaxWorkers caps the goroutines that run the tasks of one step at n,
// the caller of Run included, and the pool's workers running tasks at any
// moment, whatever the step, at n−1; n <= 0 removes the cap (the default:
// GOMAXPROCS). It returns the previous cap (0 for none). Safe to call at
// any time: steps running keep the workers they have, later steps follow
// the new cap. Results do not change: callers partition their work
// independently of the number of workers.
func SetMaxWorkers(n int) int {
	n = min(max(n, 0), MaxTasks)
	return int(maxWorkers.Swap(int32(n)))
}

// Workers returns how many goroutines run the tasks of one step, the
// caller's included: GOMAXPROCS, or the cap SetMaxWorkers set if lower.
// Callers that choose how finely to split a step for speed (never for
// its result) read it.
func Workers() int {
	w := runtime.GOMAXPROCS(0)
	if m := int(maxWorkers.Load()); m > 0 && m < w {
		w = m
	}
	return w
}

// active counts the workers running tasks now (inside Group.work): at
// most Workers()−1, so that with the caller of a step no more than
// Workers() goroutines run its tasks, and a cap set by SetMaxWorkers also
// holds when several goroutines run steps at once.
var active atomic.Int32

// spinners counts the workers polling now: at most one fewer than the
// CPUs the process may use (or Workers), so polling never takes a core
// from the goroutine that will post the next step.
var spinners atomic.Int32

// nextStep returns the next Group with a step to join: from the queue at
// once if one is there, else after polling for up to the spin wait
// (yielding the processor between polls), else after sleeping until one
// is posted.
func nextStep() *Group {
	select {
	case g := <-jobs:
		return g
	default:
	}
	if d := time.Duration(spinWait.Load()); d > 0 {
		if takeSlot(&spinners, int32(min(Workers(), runtime.NumCPU())-1)) {
			g := poll(d)
			spinners.Add(-1)
			if g != nil {
				return g
			}
		}
	}
	return <-jobs
}

// takeSlot adds one to *c if that keeps it at most limit, and reports
// whether it did. It never raises *c above limit, even for a moment: a
// worker that finds no slot free does not count itself, so spinners is
// exactly the number of workers polling, and a free slot is never refused
// because a refused worker had counted itself for a moment. (*c can be
// above a limit lowered since, by GOMAXPROCS or SetMaxWorkers, until
// those workers stop.)
func takeSlot(c *atomic.Int32, limit int32) bool {
	for {
		n := c.Load()
		if n >= limit {
			return false
		}
		if c.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// poll checks the queue until d has passed; nil if nothing came.
func poll(d time.Duration) *Group {
	t0 := time.Now()
	for i := 1; ; i++ {
		select {
		case g := <-jobs:
			return g
		default:
		}
		if i%16 == 0 {
			if time.Since(t0) > d {
				return nil
			}
			runtime.Gosched()
		}
	}
}

// work runs tasks of the current step until none is left to take, and
// reports whether it finished the step's last task. A worker woken for a
// step that is over joins the step running now, if any (a task claimed by
// the compare-and-swap belongs to the step whose state it swapped, and f
// is read after it).
func (g *Group) work() (last bool) {
	for {
		s := g.state.Load()
		i, n := s&groupTaskMask, s>>groupTaskBits&groupTaskMask
		if i >= n {
			return last
		}
		if !g.state.CompareAndSwap(s, s+1) {
			continue
		}
		g.f(int(i))
		if g.left.Add(-1) == 0 {
			last = true
		}
	}
}

// Run calls f(i) for every i in [0, n), on up to Workers() goroutines
// (the caller's included), and returns when all calls have returned.
// It panics if n > MaxTasks.
func (g *Group) Run(n int, f func(int)) {
	if n > MaxTasks {
		panic(fmt.Sprintf("pool.Group.Run: n=%d tasks > MaxTasks=%d", n, MaxTasks))
	}
	w := min(Workers(), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	if g.done == nil {
		g.done = make(chan struct{}, 1)
	}
	ensureWorkers(w - 1)
	gen := (g.state.Load()>>groupGenShift + 1) & (1<<(64-groupGenShift) - 1)
	g.f = f
	g.left.Store(int64(n))
	g.state.Store(gen<<groupGenShift | uint64(n)<<groupTaskBits) // publishes f and left
	for i := 0; i < w-1; i++ {
		select {
		case jobs <- g:
		default: // pool saturated: the caller does the work itself
		}
	}
	if !g.work() {
		g.wait()
	}
	g.f = nil
}

// wait returns once the worker that finished the step's last task has
// signalled it on done. It polls first, for up to the spin wait, and
// sleeps on the channel only then: a goroutine woken from a channel
// receive runs next on the processor of the goroutine that woke it, so a
// caller that slept there moved to that worker's core, and the worker to
// another, in most steps (the trainer's reduction on the 2-core Intel
// guest: 75–87% of steps, docs/performance.md). Tasks partition their
// data by task number, and the caller takes task 0 in practice, so each
// move sent a step's data to the other core's cache for the next step.
// Polling never yields the processor, which would let it move too, and
// is skipped when the process may use one CPU only: the worker needs it.
func (g *Group) wait() {
	d := time.Duration(spinWait.Load())
	if runtime.NumCPU() < 2 {
		d = 0
	}
	var t0 time.Time
	for i := 0; len(g.done) == 0; i++ {
		if i%64 == 0 {
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > d {
				break
			}
		}
	}
	<-g.done
}
