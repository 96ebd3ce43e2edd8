package softmax

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/nnkern/nnkern/kernels"
)

// BenchmarkTrainScaling times the trainer's step (batch 200 gathered from
// uint8 rows, D=3073, C=10: forwardBackwardSource, then the SGD update)
// at GOMAXPROCS 1 and 2, alternating inside every iteration so that a
// shared machine disturbs both alike. Reported: median wall µs per step
// of the loss and the update, and process CPU time per step (all threads,
// sampling included) for each thread count (10 steps per sample). To
// compare two builds, run their test binaries alternately.
func BenchmarkTrainScaling(b *testing.B) {
	b.Run("f64", func(b *testing.B) { benchTrainScaling[float64](b) })
	b.Run("f32", func(b *testing.B) { benchTrainScaling[float32](b) })
}

func benchTrainScaling[T kernels.Float](b *testing.B) {
	const steps = 10
	src, y, W, ws, rng := trainStepProblem[T]()
	yb := make([]int, 200)
	idx := make([]int, 200)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	type key struct{ p int }
	fb := map[key][]time.Duration{}
	up := map[key][]time.Duration{}
	cpu := map[key][]time.Duration{}
	procs := []int{1, 2}
	for b.Loop() {
		for _, p := range procs {
			runtime.GOMAXPROCS(p)
			var tf, tu time.Duration
			c0 := processCPUTime()
			for range steps {
				for r := range idx {
					idx[r] = rng.Randint(0, 49000)
					yb[r] = y[idx[r]]
				}
				t0 := time.Now()
				ws.forwardBackwardSource(kindSoftmax, W, src, idx, yb, true)
				t1 := time.Now()
				ws.reduce(W, W, 2.5e4, 1e-7, true)
				t2 := time.Now()
				tf, tu = tf+t1.Sub(t0), tu+t2.Sub(t1)
			}
			k := key{p}
			cpu[k] = append(cpu[k], (processCPUTime()-c0)/steps)
			fb[k] = append(fb[k], tf/steps)
			up[k] = append(up[k], tu/steps)
		}
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds()) / 1e3
	}
	for _, p := range procs {
		k := key{p}
		b.ReportMetric(med(fb[k]), fmt.Sprintf("loss-p%d-µs", p))
		b.ReportMetric(med(up[k]), fmt.Sprintf("upd-p%d-µs", p))
		b.ReportMetric(med(cpu[k]), fmt.Sprintf("cpu-p%d-µs", p))
	}
}
