package fused

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
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
// or goes back to sleep. So a step never takes longer than the caller running every task
// itself plus the tasks already started elsewhere.
//
// A Group runs one step at a time; tasks must not call Run of any Group.
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
// live for the life of the process and sleep on a channel when idle.
func ensureWorkers(n int) {
	poolMu.Lock()
	for poolSize < n {
		poolSize++
		go worker()
	}
	poolMu.Unlock()
}

func worker() {
	for g := range jobs {
		if g.work() {
			g.done <- struct{}{}
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

// Run calls f(i) for every i in [0, n), on up to GOMAXPROCS goroutines
// (the caller's included), and returns when all calls have returned.
// It panics if n > MaxTasks.
func (g *Group) Run(n int, f func(int)) {
	if n > MaxTasks {
		panic(fmt.Sprintf("fused.Group.Run: n=%d tasks > MaxTasks=%d", n, MaxTasks))
	}
	w := min(runtime.GOMAXPROCS(0), n)
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
		<-g.done // a worker finishes the last task
	}
	g.f = nil
}
