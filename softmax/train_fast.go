package softmax

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/train"
)

// linearModel is a LinearClassifier as train.Run trains it, on the fused
// path: each batch is gathered from src block by block inside the fused
// loss (forwardBackwardSource: each block goes from src into a
// cache-sized buffer and straight through the scores and the gradient),
// and the SGD step W -= lr·(∇ + 2·reg·W) runs as reduce in update mode,
// which applies the step from the chunk partials, never materialises dW
// and returns the ΣW² of the new W for the next iteration's regulariser
// term. Other update rules get dW from reduce in gradient mode, the dW
// Loss returns.
type linearModel[T kernels.Float] struct {
	c    *LinearClassifier[T]
	kind lossKind
	ws   *LossWorkspace[T]
	dW   blas.Matrix[T] // the gradient, with W's layout
	reg  float64        // of the last Loss
	// sqW is ΣW² (sumSqW) for the next Loss's regulariser term,
	// valid if sqOK: the fused update returns it; otherwise Loss sums it.
	sqW  float64
	sqOK bool
	// updated: W is as the fused update (SGDStep) left it, so the
	// workspace's copies of it are current (forwardBackwardSource).
	updated bool
	// Predict's buffers, grown to the largest block seen.
	xb, sb blas.Matrix[T]
}

// TrainModel returns c as train.Run trains it (the fused loss of c.Kind on
// a workspace of its own). It panics if W is empty. Use it for one run at
// a time; Train and TrainSource use it.
func (c *LinearClassifier[T]) TrainModel() train.Model[T] { return c.trainModel() }

func (c *LinearClassifier[T]) trainModel() *linearModel[T] {
	if c.W.Rows == 0 || c.W.Cols == 0 {
		panic(fmt.Sprintf("softmax.LinearClassifier.TrainModel: W is empty (%d×%d)", c.W.Rows, c.W.Cols))
	}
	kind := kindSoftmax
	if c.Kind == KindSVM {
		kind = kindSVM
	}
	W := c.W
	dW := blas.Matrix[T]{Rows: W.Rows, Cols: W.Cols, Stride: W.Stride, Data: make([]T, len(W.Data))}
	return &linearModel[T]{c: c, kind: kind, ws: NewLossWorkspace[T](), dW: dW}
}

func (m *linearModel[T]) Loss(src Source[T], idx, y []int, reg float64) float64 {
	if !m.sqOK {
		m.sqW, m.sqOK = sumSqW(m.c.W), true
	}
	m.reg = reg
	data := m.ws.forwardBackwardSource(m.kind, m.c.W, src, idx, y, m.updated)
	return data + float64(reg*m.sqW)
}

// SGDStep sets W -= lr·(Σ_c P_c + 2·reg·W) in place.
func (m *linearModel[T]) SGDStep(lr float64) {
	m.sqW = m.ws.reduce(m.c.W, m.c.W, m.reg, lr, true)
	m.sqOK, m.updated = true, true
}

func (m *linearModel[T]) Gradients() {
	m.ws.reduce(m.dW, m.c.W, m.reg, 0, false)
	m.sqOK, m.updated = false, false // W is about to change
}

func (m *linearModel[T]) Params() []train.Param[T] {
	m.updated = false // the caller may write W through them
	W := m.c.W
	n := (W.Rows-1)*W.Stride + W.Cols
	return []train.Param[T]{{Name: "W", W: W.Data[:n], G: m.dW.Data[:n]}}
}

func (m *linearModel[T]) Predict(pred []int, src Source[T], idx []int) {
	W := m.c.W
	n, D := len(idx), W.Rows
	if m.xb.Rows < n {
		m.xb, m.sb = blas.NewMatrix[T](n, D), blas.NewMatrix[T](n, W.Cols)
	}
	xb, sb := m.xb.Slice(0, n, 0, D), m.sb.Slice(0, n, 0, W.Cols)
	src.Gather(xb, idx)
	blas.Gemm(false, false, 1, xb, W, 0, sb)
	for r := range n {
		pred[r] = kernels.ArgMax(sb.Row(r))
	}
}

// batchStride returns the row stride of the trainer's block buffers for
// cols columns: cols rounded up to a whole cache line and, when a row
// spans 4 KiB or more, then to 64 bytes past a multiple of 4 KiB. With a
// stride that is close to a multiple of 4 KiB (D=3073: 24584 bytes in
// float64) the rows of a block map to the same few L1 sets, and the
// gradient kernel, which reads one line from each row of the block in
// turn, keeps evicting them.
func batchStride[T kernels.Float](cols int) int {
	size := dtype.Size[T]()
	line := 64 / size
	ld := (cols + line - 1) / line * line
	if ld*size >= 4096 {
		for (ld*size)%4096 != 64 {
			ld += line
		}
	}
	return ld
}
