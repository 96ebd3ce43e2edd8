package softmax

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

func threadCPUTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

// BenchmarkLossCPU reports the best single-thread CPU time of the fused
// softmax loss (N=500, D=3073, C=10) averaged over 20 calls: a figure that
// a shared, overloaded machine disturbs much less than wall time. Run it
// with -cpu 1; softmax/internal/fused/np_loss_cpu.py is the numpy counterpart.
func BenchmarkLossCPU(b *testing.B) {
	b.Run("f64", func(b *testing.B) { benchLossCPU[float64](b) })
	b.Run("f32", func(b *testing.B) { benchLossCPU[float32](b) })
}

func benchLossCPU[T kernels.Float](b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(1, 2))
	W, X, y, _, _ := fusedRandProblem[T](rng, 500, 3073, 10, 0, 0, 1e-4)
	ws := NewLossWorkspace[T]()
	dW := blas.NewMatrix[T](3073, 10)
	ws.Softmax(dW, W, X, y, 5e-6)
	best := time.Hour
	for b.Loop() {
		t := threadCPUTime()
		for range 20 {
			ws.Softmax(dW, W, X, y, 5e-6)
		}
		best = min(best, (threadCPUTime()-t)/20)
	}
	b.ReportMetric(float64(best.Nanoseconds())/1e6, "best-cpu-ms")
}

func processCPUTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}
