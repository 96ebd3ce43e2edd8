package softmax

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/softmax/internal/fused"
)

// BenchmarkLossBreakdown times the phases of the fused softmax loss on the
// N=500, D=3073, C=10 workload, each phase run serially over all rows on
// the calling goroutine (scores as the loss computes them, MulAdd on the
// padded W, MulAddPacked on the packed W or MulAddNT on Wᵀ, softmax rows, gradient MulAddTN,
// reduction of the chunk partials), then the whole parallel call and an
// empty parallel step (goroutine hand-off). Medians over the iterations,
// in µs; the phases run one after the other in every iteration, so their
// ratios come from one run.
func BenchmarkLossBreakdown(b *testing.B) {
	b.Run("f64", func(b *testing.B) { benchLossBreakdown[float64](b) })
	b.Run("f32", func(b *testing.B) { benchLossBreakdown[float32](b) })
}

func benchLossBreakdown[T kernels.Float](b *testing.B) {
	const n, d, c = 500, 3073, 10
	rng := rand.New(rand.NewPCG(1, 2))
	W, X, y, _, _ := fusedRandProblem[T](rng, n, d, c, 0, 0, 1e-4)
	ws := NewLossWorkspace[T]()
	dW := blas.NewMatrix[T](d, c)
	ws.Softmax(dW, W, X, y, 5e-6)
	cp := ws.cp
	S := make([]T, n*cp)
	part := ws.parts[0]
	var phases [6][]time.Duration
	names := []string{"fwd-µs", "softmax-µs", "bwd-µs", "reduce-µs", "full-µs", "emptyrun-µs"}
	nop := func(int) {}
	for b.Loop() {
		t0 := time.Now()
		clear(S)
		for b0 := 0; b0 < n; b0 += fusedBlockRows[T]() {
			rows := min(fusedBlockRows[T](), n-b0)
			if ws.packed {
				fused.MulAddPacked(rows, c, d, X.Data[b0*X.Stride:], X.Stride, ws.wp, S[b0*cp:], cp)
			} else if ws.wp != nil {
				fused.MulAdd(rows, cp, d, X.Data[b0*X.Stride:], X.Stride, 1, ws.wp, cp, S[b0*cp:], cp)
			} else {
				fused.MulAddNT(rows, c, d, X.Data[b0*X.Stride:], X.Stride, ws.wt, ws.ldp, S[b0*cp:], cp)
			}
		}
		t1 := time.Now()
		kernels.SoftmaxCERows(S, S, n, c, cp, y, T(1.0/n))
		t2 := time.Now()
		for b0 := 0; b0 < n; b0 += fusedBlockRows[T]() {
			rows := min(fusedBlockRows[T](), n-b0)
			if b0 == 0 { // as runChunk: the first block writes the partial
				fused.MulTN(c, d, rows, S[b0*cp:], cp, X.Data[b0*X.Stride:], X.Stride, part, ws.ldp)
			} else {
				fused.MulAddTN(c, d, rows, S[b0*cp:], cp, X.Data[b0*X.Stride:], X.Stride, part, ws.ldp)
			}
		}
		t3 := time.Now()
		ws.chunks = fusedChunks(n)
		ws.reduce(dW, W, 5e-6, 0, false)
		t4 := time.Now()
		ws.Softmax(dW, W, X, y, 5e-6)
		t5 := time.Now()
		ws.group.Run(fusedChunks(n), nop)
		t6 := time.Now()
		ts := []time.Time{t0, t1, t2, t3, t4, t5, t6}
		for i := range phases {
			phases[i] = append(phases[i], ts[i+1].Sub(ts[i]))
		}
	}
	for i, p := range phases {
		slices.Sort(p)
		b.ReportMetric(float64(p[len(p)/2].Nanoseconds())/1e3, names[i])
	}
}
