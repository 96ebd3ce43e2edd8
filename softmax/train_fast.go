package softmax

import (
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// trainFast runs iterations cfg.StartIteration..cfg.NumIters-1 of
// mini-batch SGD on the fused path, appending each loss to hist. The
// arguments have been validated (labels in [0, W.Cols), W initialised).
//
// Every buffer is allocated before the loop: the batch indices are drawn
// with rng.Randint(0, N) into a reused slice (exactly what
// rng.Choice(N, B, true) draws, so the random stream is the reference's),
// the batch is gathered from src block by block inside the fused loss
// (forwardBackwardSource: each block goes from src into a cache-sized
// buffer and straight through the scores and the gradient), and the SGD
// step W -= lr·(∇ + 2·reg·W) runs as reduce in update mode, which applies
// the step from the chunk partials, never materialises dW and returns the
// ΣW² of the new W for the next iteration's regulariser term.
//
// A NaN or infinite loss stops training before that step's update, with
// an error wrapping ErrDiverged that names the iteration.
func (c *LinearClassifier[T]) trainFast(src Source[T], y []int, cfg TrainConfig, rng *nprand.RandomState, hist []float64) ([]float64, error) {
	N := src.Rows()
	B := cfg.BatchSize
	kind := kindSoftmax
	if c.Kind == KindSVM {
		kind = kindSVM
	}
	ws := NewLossWorkspace[T]()
	yb := make([]int, B)
	idx := make([]int, B)
	// ΣW² for the regulariser term of the loss: the update returns it for
	// the W it writes, so that only the first iteration sums it here.
	sqW := wSumSq(c.W)
	for it := cfg.StartIteration; it < cfg.NumIters; it++ {
		// Xb = rows idx of the training data: (B, D)
		for r := range idx {
			idx[r] = rng.Randint(0, N)
		}
		for r, i := range idx {
			yb[r] = y[i]
		}
		data := ws.forwardBackwardSource(kind, c.W, src, idx, yb)
		loss := data + float64(cfg.Reg*sqW)
		hist = append(hist, loss)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return hist, fmt.Errorf("softmax: Train: iteration %d: loss is %v: %w", it, loss, ErrDiverged)
		}
		// W -= lr·(Σ_c P_c + 2·reg·W), in place
		sqW = ws.reduce(c.W, c.W, cfg.Reg, cfg.LearningRate, true)
		if cfg.Log != nil && it%100 == 0 {
			logIteration(cfg.Log, it, cfg.NumIters, loss)
		}
		if cfg.OnIteration != nil {
			if err := cfg.OnIteration(it, loss); err != nil {
				return hist, fmt.Errorf("softmax: Train: stopped at iteration %d: %w", it, err)
			}
		}
	}
	return hist, nil
}

// batchStride returns the row stride of the trainer's block buffers for
// cols columns: cols rounded up to a whole cache line and, when a row
// spans 4 KiB or more, then to 64 bytes past a multiple of 4 KiB. With a
// stride that is close to a multiple of 4 KiB (D=3073: 24584 bytes in
// float64) the rows of a block map to the same few L1 sets, and the
// gradient kernel, which reads one line from each row of the block in
// turn, keeps evicting them.
func batchStride[T kernels.Float](cols int) int {
	var z T
	size := int(unsafe.Sizeof(z))
	line := 64 / size
	ld := (cols + line - 1) / line * line
	if ld*size >= 4096 {
		for (ld*size)%4096 != 64 {
			ld += line
		}
	}
	return ld
}

func logIteration(w io.Writer, it, n int, loss float64) {
	fmt.Fprintf(w, "iteration %d / %d: loss %f\n", it, n, loss)
}

// wSumSq returns ΣW² accumulated in float64 in row-major order.
func wSumSq[T kernels.Float](W blas.Matrix[T]) float64 {
	var s float64
	for k := 0; k < W.Rows; k++ {
		for _, v := range W.Data[k*W.Stride : k*W.Stride+W.Cols] {
			s += float64(float64(v) * float64(v))
		}
	}
	return s
}
