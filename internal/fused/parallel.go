package fused

import (
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
// A Group runs one step at a time; tasks must not call Run of any Group.
type Group struct {
	next atomic.Int64
	n    int64
	f    func(int)
	wg   sync.WaitGroup
}

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
		g.work()
		g.wg.Done()
	}
}

func (g *Group) work() {
	for {
		i := g.next.Add(1) - 1
		if i >= g.n {
			return
		}
		g.f(int(i))
	}
}

// Run calls f(i) for every i in [0, n), on up to GOMAXPROCS goroutines
// (the caller's included), and returns when all calls have returned.
func (g *Group) Run(n int, f func(int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	ensureWorkers(w - 1)
	g.f, g.n = f, int64(n)
	g.next.Store(0)
	for i := 0; i < w-1; i++ {
		g.wg.Add(1)
		select {
		case jobs <- g:
		default:
			g.wg.Done() // pool saturated: the caller does the work itself
		}
	}
	g.work()
	g.wg.Wait()
	g.f = nil
}
