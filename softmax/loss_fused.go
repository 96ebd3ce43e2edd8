package softmax

// The fused, cache-blocked loss of the linear classifiers (softmax and
// multiclass SVM): one pass over X, no N×C temporaries beyond a block.
//
// X (N, D) is cut into a fixed number of row chunks that depends only on N
// (never on GOMAXPROCS); chunks run in parallel, each over blocks of
// blockRows rows:
//
//	S_b   = X_b · W                      (blockRows, C)   fused.MulAddNT on Wᵀ, or fused.MulAdd on padded W
//	dS_b  = softmax-CE / hinge           kernels.SoftmaxCERows / HingeRows, scaled by 1/N
//	Pᵀ_c += dS_bᵀ · X_b                  (C, D)           fused.MulAddTN, while X_b is still in cache
//
// (the chunk's first block writes Pᵀ_c with fused.MulTN instead of
// adding to a cleared one: the same bits), then dW = (Pᵀ_0 + Pᵀ_1 +
// ...)ᵀ + 2·reg·W is reduced in chunk order (in parallel over ranges of
// D, each element summed in the same order), so
// the result is bit-identical for any GOMAXPROCS. The gradient partials
// are kept transposed (C×D, rows on whole cache lines), so that D lies
// across the SIMD lanes and no lane holds padding whatever C is; the
// scores put C across the lanes on a copy of W, for 1, 2, 9 or 10 classes
// MulAddPacked on W packed with its last columns interleaved with D, for
// other C <= 16 in float64 MulAdd on W padded to cp columns (see
// scoresOnW); the float64 reduction then writes W's layout straight from
// the transposed partials (runReduceW), so it keeps no Wᵀ. Otherwise the
// scores too are dot products of rows of X_b with rows of Wᵀ (MulAddNT),
// W transposed into the workspace once per call.
//
import (
	"fmt"
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/internal/pool"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/softmax/internal/fused"
	"github.com/nnkern/nnkern/train"
)

const (
	// fusedMaxChunks bounds the number of row chunks (and dW partials).
	fusedMaxChunks = 4
	// fusedMinChunkRows is the fewest rows worth a chunk of its own
	// (fusedChunks).
	fusedMinChunkRows = 16
	// fusedReduceParts is the number of row ranges of dW reduced in
	// parallel.
	fusedReduceParts = 8
)

// fusedBlockRows returns the rows of X per fused block (and per gathered
// block of the trainer) for element type T. The block is re-read from
// cache by the gradient pass right after the scores pass, so it should
// stay in L2 beside the padded W, Wᵀ and the chunk's partial: in float64
// a 32-row block of D = 3073 (786 KB) with those (~640 KB) overflows a
// 1 MiB L2, and 8-row blocks run the trainer's fused gather, scores and
// gradient ~10% faster; float32's blocks are half the size and 32 rows
// ran as fast as 8 or faster. Both are multiples of the gradient
// kernel's pass (fused.MulAddTN sums passes of 8 rows from the start of
// the block), so the block size changes no gradient; the mean loss is
// summed block by block, so its last bit may follow it. Either way it
// is a constant per type, never a machine property.
func fusedBlockRows[T kernels.Float]() int {
	if dtype.Is32[T]() {
		return 32
	}
	return 8
}

// fusedTailRows: a chunk's last rows, when fewer than this, join the
// block before them (runChunk), so that no block reads all of W for a
// handful of rows: the float64 trainer's chunks of 50 rows ended in a
// 2-row block that cost ~60% of a full 8-row one. The merged block keeps
// the bits: its gradient passes (fused.MulAddTN sums passes of 8 rows
// from the block's start, and blocks start at multiples of 8 rows of the
// chunk) and its softmax calls (one per fusedBlockRows rows, so the loss
// is summed in the same groups) are those of the two blocks it replaces,
// and the scores are row by row.
const fusedTailRows = 8

// fusedBufRows returns the rows of the per-task score and gathered
// blocks: a block and a tail that joined it (fusedTailRows).
func fusedBufRows[T kernels.Float]() int {
	return fusedBlockRows[T]() + fusedTailRows - 1
}

// fusedChunks returns the number of row chunks for n rows: a function of n
// alone, so that results do not depend on the number of threads. It is 1
// below 2·fusedMinChunkRows rows, 2 up to 128 rows and fusedMaxChunks = 4
// above: always a power of two, because the tasks of a parallel step take
// equal runs of chunks (slotsFor) and 3 chunks on two cores leave one core
// with two of them and the other idle for a third of the call (on two
// threads the losses of 150 and 180 rows ran 1.1–1.2× slower in float64
// and 1.4× in float32 with 3 chunks than with 4). Each chunk adds a C×D
// partial to reduce, so more chunks cost time (float64, 100 rows: 4
// chunks 1.15–1.25× slower than 2, on one thread and on two);
// but a single chunk leaves the second core only the reduction, which
// then runs slower split over two cores than on one: for 32 to 64 rows,
// 2 chunks ran the losses 1.3–1.7× faster than 1 chunk on two threads
// and 4–11% slower on one (docs/performance.md).
func fusedChunks(n int) int {
	switch {
	case n < 2*fusedMinChunkRows:
		return 1
	case n <= 128:
		return 2
	default:
		return fusedMaxChunks
	}
}

type lossKind int

const (
	kindSoftmax lossKind = iota
	kindSVM
)

// LossWorkspace holds every buffer of the fused loss for one weight shape
// (D, C), so that repeated calls (a training loop) allocate nothing; a call
// with another D or C reallocates them. The number of rows N may change
// freely. A LossWorkspace must not be used by two goroutines at once.
type LossWorkspace[T kernels.Float] struct {
	d, c, cp int
	ldp      int   // row stride of the transposed partials (>= D)
	wt       []T   // C×ldp: Wᵀ of the current call (MulAddNT scores and reduce), or nil
	wp       []T   // D×cp: W padded with zero columns (MulAdd scores), W packed (MulAddPacked, packed), or nil
	packed   bool  // the scores by fused.MulAddPacked on the packed W
	parts    [][]T // per chunk C×ldp transposed gradient partial
	scores   [][]T // per task (slot) fusedBlockRows×cp score / dS block
	chunkSum [fusedMaxChunks]float64
	sqPart   [fusedReduceParts]float64 // ΣW² of each reduction part's rows (sumSqW)

	// arguments of the current call, read by the task functions
	kind   lossKind
	x      blas.Matrix[T]
	src    Source[T] // when set, rows idx of src instead of x
	idx    []int
	xblk   [][]T // per task (slot) fusedBlockRows×ldx gathered block (src only)
	ldx    int
	y      []int
	n      int
	chunks int
	reg    float64
	lr     float64
	update bool
	dst    blas.Matrix[T]

	// slots is the number of tasks of the current parallel step; task s
	// runs chunks (or reduction parts) [s·k/slots, (s+1)·k/slots).
	slots             int
	chunkFn, reduceFn func(int)
	prepFn            func(int)
	w                 blas.Matrix[T] // W of the current preparation step
	group             pool.Group
}

// isolationBytes is the unused memory isolated puts on each side of a
// buffer.
const isolationBytes = 64 << 10

// isolated returns a zeroed buffer of n elements starting on a 64-byte
// line, with isolationBytes of memory that nothing uses before and after
// it. The buffers one task writes (a chunk's partial, a task's gathered and
// score blocks) are each streamed by one core, and a core streaming to the
// end of its buffer has its hardware prefetchers fetch the lines beyond
// it: when those belong to the buffer of a task on the other core, that
// core's next writes to them wait for the lines to come back (the float64
// trainer's chunk step, N = 200, two threads, on Intel Emerald Rapids: the
// task whose gathered block followed the other's in memory gathered 18%
// slower, 112 against 95 µs per call, and the step waited for it; with
// 16 KiB between the two blocks the gap fell to 5%, with 32 or 64 KiB it
// vanished, and the step ran ~12% faster; docs/performance.md). The
// guards cost 1.5 MiB of memory per workspace (12 buffers). The buffer
// starts on a line because an allocation of more than 32 KiB starts on a
// page (TestIsolated checks it) and the guard is whole lines.
func isolated[T kernels.Float](n int) []T {
	g := isolationBytes / dtype.Size[T]()
	return make([]T, n+2*g)[g : g+n : g+n]
}

// slotsFor returns how many tasks a parallel step of k pieces (chunks or
// reduction parts) runs as: one per worker, at most k. Each task runs a
// fixed run of pieces rather than taking whichever piece is next, so the
// goroutine that takes task s, in practice the same from call to call
// (the caller takes task 0, and pool.Group keeps it on its core by
// polling for the step's end rather than sleeping), keeps the same chunks
// and the same ranges of W: a chunk's partial, the task's score and
// gathered blocks and the ranges of W (and its copies) a reduction part
// writes stay in one core's cache. Where cache lines move between cores
// slowly (the 2-core Zen 5 guest: ~440 ns for a
// line's round trip), handing out the 4 chunks one by one made the
// trainer's forward-backward pass ~25% slower on two threads
// (docs/performance.md). Which piece runs where never changes a result:
// the pieces and their order of combination depend on N and D only.
func slotsFor(k int) int {
	return max(1, min(pool.Workers(), k))
}

// scoresOnW reports whether the scores go through fused.MulAddPacked on
// the packed copy of W (Packable C: 1, 2, 9 or 10 classes) or, for
// float64 with C <= fused.MaxCols, fused.MulAdd on the padded one (C
// across the SIMD lanes), rather than fused.MulAddNT on Wᵀ (D across the
// lanes). MulAddPacked puts the classes past the last multiple of 8 into
// one vector interleaved with 4 (float64) or 8 (float32) values of D, so
// no lane holds padding in float32 and a quarter vector does in float64:
// the scores of 10 classes (CIFAR-10's) of a loss block took, one thread,
// at AVX-512 7.1 against MulAdd's 9.8 µs (float64, 8 rows) and 122–127
// against MulAddNT's 112–113 GFLOP/s (float32, 32 rows, rows of X off the
// lines), at the AVX2 level 12.8–13.2 against MulAdd's 13.6–14.0 µs
// (float64, 8 rows) and 72 against 47–48 GFLOP/s (float32)
// (docs/performance.md). For other C, MulAddNT wastes no lane on padding
// and runs the float32 scores faster than MulAdd, but float64 loses on
// AVX2 (MulAddNT's two YMM per sum leave room for a 2×3 block only). The
// choice depends on the type and C, never on the ISA level, so the bits
// do not either.
func (ws *LossWorkspace[T]) scoresOnW() bool {
	return fused.Packable(ws.c) || !dtype.Is32[T]() && ws.c <= fused.MaxCols
}

// wpRow returns where row k of W goes in ws.wp: W[k, j] at full + fs·j
// for j < q8, at inter + is·(j - q8) above (the padded W: full = k·cp,
// fs = 1, q8 = C; the packed W: fused.PackedRow).
func (ws *LossWorkspace[T]) wpRow(k int) (full, fs, inter, is, q8 int) {
	if !ws.packed {
		return k * ws.cp, 1, 0, 0, ws.c
	}
	full, fs, inter, is = fused.PackedRow[T](ws.d, ws.c, k)
	return full, fs, inter, is, ws.c / 8 * 8
}

// setWP writes row k of W (w) into ws.wp (wpRow).
func (ws *LossWorkspace[T]) setWP(k int, w []T) {
	full, fs, inter, is, q8 := ws.wpRow(k)
	for j, v := range w {
		if j < q8 {
			ws.wp[full+fs*j] = v
		} else {
			ws.wp[inter+is*(j-q8)] = v
		}
	}
}

// NewLossWorkspace returns an empty workspace; it sizes itself on first use.
func NewLossWorkspace[T kernels.Float]() *LossWorkspace[T] {
	ws := &LossWorkspace[T]{}
	ws.chunkFn = func(s int) {
		for c := s * ws.chunks / ws.slots; c < (s+1)*ws.chunks/ws.slots; c++ {
			ws.runChunk(c, s)
		}
	}
	ws.prepFn = func(s int) {
		for p := s * fusedReduceParts / ws.slots; p < (s+1)*fusedReduceParts/ws.slots; p++ {
			ws.runPrep(p)
		}
	}
	ws.reduceFn = func(s int) {
		for p := s * fusedReduceParts / ws.slots; p < (s+1)*fusedReduceParts/ws.slots; p++ {
			ws.runReduce(p)
		}
	}
	return ws
}

// resize makes the buffers fit a D×C weight matrix and reports whether it
// made new ones.
func (ws *LossWorkspace[T]) resize(d, c int) bool {
	if d == ws.d && c == ws.c && ws.parts != nil {
		return false
	}
	ws.d, ws.c = d, c
	// Score rows padded to whole vectors, for SoftmaxCERows/HingeRows.
	ws.cp = fused.PadCols[T](c)
	// Rows of whole 64-byte lines: MulAddNT loads a vector from every
	// row of Wᵀ per step, and a load across two lines costs two.
	ws.ldp = (d + 15) &^ 15
	// The packed or padded W for the scores on W (scoresOnW), whose
	// float64 reduction (runReduceW) needs no Wᵀ; Wᵀ for MulAddNT and
	// for the float32 reduction, whose transposes and vector Axpy on Wᵀ
	// ran its update step in 39 µs where runReduceW's scalar loop took 62
	// (two threads, docs/performance.md).
	ws.wt, ws.wp, ws.packed = nil, nil, false
	if ws.scoresOnW() {
		ws.packed = fused.Packable(c)
		if ws.packed {
			ws.wp = make([]T, fused.PackedLen[T](d, c))
		} else {
			ws.wp = make([]T, d*ws.cp)
		}
	}
	if !ws.scoresOnW() || dtype.Is32[T]() {
		ws.wt = make([]T, c*ws.ldp)
	}
	ws.xblk = nil
	ws.parts = make([][]T, fusedMaxChunks)
	ws.scores = make([][]T, fusedMaxChunks)
	for i := range ws.parts {
		ws.parts[i] = isolated[T](c * ws.ldp)
		ws.scores[i] = isolated[T](fusedBufRows[T]() * ws.cp)
	}
	return true
}

// Softmax computes the softmax loss of the linear classifier W (D, C) on X
// (N, D) with labels y and writes its gradient into dW (D, C, overwritten):
// the same function as LossNaive/LossVectorized, fused and cache-blocked.
// It panics on mismatched shapes or labels outside [0, C). dW must not
// share memory with W or X (the reduction's parts read rows of W while
// the other parts write their rows of dW).
func (ws *LossWorkspace[T]) Softmax(dW, W, X blas.Matrix[T], y []int, reg float64) float64 {
	return ws.loss("LossWorkspace.Softmax", kindSoftmax, dW, W, X, y, reg)
}

// SVM is Softmax for the multiclass SVM loss (hinge, margin 1): the same
// function as SVMLossNaive/SVMLossVectorized.
func (ws *LossWorkspace[T]) SVM(dW, W, X blas.Matrix[T], y []int, reg float64) float64 {
	return ws.loss("LossWorkspace.SVM", kindSVM, dW, W, X, y, reg)
}

func (ws *LossWorkspace[T]) loss(fn string, kind lossKind, dW, W, X blas.Matrix[T], y []int, reg float64) float64 {
	checkLossArgs(fn, W, X, y)
	if dW.Rows != W.Rows || dW.Cols != W.Cols || dW.Check() != nil {
		panic(fmt.Sprintf("softmax.%s: dW is %d×%d (stride %d, len %d), want %d×%d", fn, dW.Rows, dW.Cols, dW.Stride, len(dW.Data), W.Rows, W.Cols))
	}
	if len(W.Data) > 0 && len(dW.Data) > 0 && &dW.Data[0] == &W.Data[0] {
		panic(fmt.Sprintf("softmax.%s: dW and W (%d×%d) share their storage; dW must be a separate matrix", fn, W.Rows, W.Cols))
	}
	data := ws.forwardBackward(kind, W, X, y)
	sq := ws.reduce(dW, W, reg, 0, false)
	return data + float64(reg*sq)
}

// forwardBackward fills the chunk partials P_c and returns the mean data
// loss.
func (ws *LossWorkspace[T]) forwardBackward(kind lossKind, W, X blas.Matrix[T], y []int) float64 {
	ws.x = X
	l := ws.run(kind, W, X.Rows, y, false)
	ws.x = blas.Matrix[T]{}
	return l
}

// forwardBackwardSource is forwardBackward on the rows idx of src (the
// batch X = src rows idx, y the batch labels): every chunk gathers one
// block of rows at a time into its own cache-sized buffer right before
// the block's scores and gradient, so the batch is never written out as a
// whole and is read from cache, not memory. src.Gather is called from
// several goroutines at once, for disjoint rows. With updated, W is the W
// the last reduce in update mode wrote, unchanged since, and so its copies
// Wᵀ and the padded W are already current (the trainer knows; the public
// losses never pass it).
func (ws *LossWorkspace[T]) forwardBackwardSource(kind lossKind, W blas.Matrix[T], src Source[T], idx, y []int, updated bool) float64 {
	if ws.resize(W.Rows, W.Cols) {
		updated = false
	}
	if ws.xblk == nil {
		ws.ldx = batchStride[T](ws.d)
		ws.xblk = make([][]T, fusedMaxChunks)
		for i := range ws.xblk {
			ws.xblk[i] = isolated[T](fusedBufRows[T]() * ws.ldx)
		}
	}
	ws.src, ws.idx = src, idx
	l := ws.run(kind, W, len(idx), y, updated)
	ws.src, ws.idx = nil, nil
	return l
}

func (ws *LossWorkspace[T]) run(kind lossKind, W blas.Matrix[T], n int, y []int, updated bool) float64 {
	if ws.resize(W.Rows, W.Cols) || !updated {
		// The packed or padded W, or Wᵀ. The copy of W (and a float32
		// Wᵀ beside it, which only its range's reduction reads) is
		// written in parallel over the reduction's ranges of D, each
		// range by the core that reduces it (the reduction reads W range
		// by range and in update mode writes W and the copy): the
		// float64 loss (N=500, two threads, Intel Emerald Rapids) ran
		// faster than with the caller writing it. The float32 MulAddNT
		// scores read all of Wᵀ on every core, and writing it from both
		// cores made that loss 7–12% slower, so it is written by the
		// caller (docs/performance.md).
		ws.w = W
		if ws.wp != nil {
			ws.slots = slotsFor(fusedReduceParts)
			ws.group.Run(ws.slots, ws.prepFn)
		} else {
			for p := range fusedReduceParts {
				ws.runPrep(p)
			}
		}
		ws.w = blas.Matrix[T]{}
	}
	ws.kind, ws.y, ws.n = kind, y, n
	ws.chunks = fusedChunks(n)
	ws.slots = slotsFor(ws.chunks)
	ws.group.Run(ws.slots, ws.chunkFn)
	var s float64
	for c := 0; c < ws.chunks; c++ {
		s += ws.chunkSum[c]
	}
	ws.y = nil
	return s / float64(n)
}

// runChunk is the fused loop over the blocks of chunk c:
// rows [c·N/chunks, (c+1)·N/chunks), run by task slot. The gathered and
// score blocks belong to the task, not the chunk: a task runs its chunks
// one after the other, so one buffer of each serves them all and the
// cache holds one gathered block per core instead of one per chunk (with
// one thread, float32: 0.4 instead of 1.6 MB beside the partials, and the
// trainer ran ~9% faster; docs/performance.md).
func (ws *LossWorkspace[T]) runChunk(c, slot int) {
	n, d, cp, C := ws.n, ws.d, ws.cp, ws.c
	r0, r1 := c*n/ws.chunks, (c+1)*n/ws.chunks
	part, s := ws.parts[c], ws.scores[slot]
	scale := T(1 / float64(n))
	var sum float64
	br := fusedBlockRows[T]()
	for b0, rows := r0, 0; b0 < r1; b0 += rows {
		rows = min(br, r1-b0)
		if tail := r1 - b0 - rows; tail > 0 && tail < fusedTailRows {
			rows += tail
		}
		// X_b: (rows, D)
		var xb blas.Matrix[T]
		if ws.src != nil {
			xb = blas.Matrix[T]{Rows: rows, Cols: d, Stride: ws.ldx, Data: ws.xblk[slot][:(rows-1)*ws.ldx+d]}
			ws.src.Gather(xb, ws.idx[b0:b0+rows])
		} else {
			xb = ws.x.Slice(b0, b0+rows, 0, d)
		}
		sb := s[:rows*cp]
		// S_b = X_b·W: (rows, C) = (rows, D)·(D, C), rows cp apart
		clear(sb)
		if ws.packed {
			fused.MulAddPacked(rows, C, d, xb.Data, xb.Stride, ws.wp, sb, cp)
		} else if ws.wp != nil {
			fused.MulAdd(rows, cp, d, xb.Data, xb.Stride, 1, ws.wp, cp, sb, cp)
		} else {
			fused.MulAddNT(rows, C, d, xb.Data, xb.Stride, ws.wt, ws.ldp, sb, cp)
		}
		// dS_b (overwrites S_b), scaled by 1/N
		for s0 := 0; s0 < rows; s0 += br {
			sr, ss, ys := min(br, rows-s0), sb[s0*cp:], ws.y[b0+s0:]
			if ws.kind == kindSoftmax {
				sum += kernels.SoftmaxCERows(ss, ss, sr, C, cp, ys[:sr], scale)
			} else {
				sum += kernels.HingeRows(ss, ss, sr, C, cp, ys[:sr], scale)
			}
		}
		// Pᵀ_c += dS_bᵀ·X_b: (C, D) += (C, rows)·(rows, D); accumulates.
		// The chunk's first block writes Pᵀ_c instead (fused.MulTN: the
		// bits of a sum onto zeros), so the partial is never cleared:
		// n >= 1 and chunks <= n, so every chunk has a first block.
		if b0 == r0 {
			fused.MulTN(C, d, rows, sb, cp, xb.Data, xb.Stride, part, ws.ldp)
		} else {
			fused.MulAddTN(C, d, rows, sb, cp, xb.Data, xb.Stride, part, ws.ldp)
		}
	}
	ws.chunkSum[c] = sum
}

// reduce writes dst = Σ_c P_c + 2·reg·W (update false) or applies
// W -= lr·(Σ_c P_c + 2·reg·W) in place (update true, dst == W), in
// parallel over ranges of D. It follows the forward-backward pass on the
// same W (it reads the Wᵀ that pass made, or with the padded W, W
// itself). It returns ΣW² (sumSqW) of the W it read, or with update of
// the W it wrote, each part adding up its own rows.
func (ws *LossWorkspace[T]) reduce(dst, W blas.Matrix[T], reg, lr float64, update bool) float64 {
	ws.dst, ws.w, ws.reg, ws.lr, ws.update = dst, W, reg, lr, update
	ws.slots = slotsFor(fusedReduceParts)
	ws.group.Run(ws.slots, ws.reduceFn)
	ws.dst, ws.w = blas.Matrix[T]{}, blas.Matrix[T]{}
	sq := 0.0
	for _, v := range ws.sqPart {
		sq += v
	}
	return sq
}

// reducePart returns the rows [k0, k1) of D of reduction part p.
func reducePart(p, d int) (k0, k1 int) {
	return p * d / fusedReduceParts, (p + 1) * d / fusedReduceParts
}

// sumSqRows is ΣW² of rows [k0, k1) of W in train.SumSq's order.
func sumSqRows[T kernels.Float](W blas.Matrix[T], k0, k1 int) float64 {
	if k1 == k0 {
		return 0
	}
	return train.SumSq(W.Slice(k0, k1, 0, W.Cols))
}

// sumSqW is the fused losses' ΣW², the regulariser's sum: the sums of the
// reduction parts' rows (sumSqRows, reducePart) added in part order. Each
// part of reduce adds up its own rows while it has them in cache, on its
// core, rather than one core reading all of W again after the parallel
// step (in float64 training, that serial pass took ~3.5% of the time;
// docs/performance.md). It depends on D only, never on the thread count.
func sumSqW[T kernels.Float](W blas.Matrix[T]) float64 {
	sq := 0.0
	for p := range fusedReduceParts {
		k0, k1 := reducePart(p, W.Rows)
		sq += sumSqRows(W, k0, k1)
	}
	return sq
}

func (ws *LossWorkspace[T]) runReduce(part int) {
	if ws.wt == nil {
		ws.runReduceW(part)
		return
	}
	d, c, ldp := ws.d, ws.c, ws.ldp
	k0, k1 := reducePart(part, d)
	dst := ws.dst
	reg2, lr, update := T(2*ws.reg), T(ws.lr), ws.update
	if !update {
		ws.sqPart[part] = sumSqRows(ws.w, k0, k1)
	}
	p0 := ws.sumParts(k0, k1)
	// In the transposed layout, row by row of Wᵀ: G = P + T(2·reg·W)
	// (kernels.Axpy rounds the product, then adds, as the reference),
	// and in update mode W + T(−lr·G), which is W − T(lr·G) exactly.
	src := p0
	for j := 0; j < c; j++ {
		g, wt := p0[j*ldp+k0:j*ldp+k1], ws.wt[j*ldp+k0:j*ldp+k1]
		kernels.Axpy(reg2, wt, g)
		if update {
			kernels.Axpy(-lr, g, wt)
		}
	}
	if update {
		src = ws.wt
	}
	// Back to D×C.
	if k1 == k0 {
		ws.sqPart[part] = 0
		return
	}
	fused.Transpose(c, k1-k0, src[k0:], ldp, dst.Data[k0*dst.Stride:], dst.Stride)
	if update {
		ws.sqPart[part] = sumSqRows(dst, k0, k1)
		if ws.wp != nil {
			fused.PackRowsT(d, c, k0, k1, ws.wt, ldp, ws.wp)
		}
	}
}

// sumParts adds columns [k0, k1) of the chunk partials into P_0 in chunk
// order, Pᵀ_0 += Pᵀ_1, then Pᵀ_2, ..., and returns P_0.
func (ws *LossWorkspace[T]) sumParts(k0, k1 int) []T {
	c, ldp, parts := ws.c, ws.ldp, ws.parts[:ws.chunks]
	p0 := parts[0]
	for _, p := range parts[1:] {
		for j := 0; j < c; j++ {
			kernels.AddTo(p0[j*ldp+k0:j*ldp+k1], p[j*ldp+k0:j*ldp+k1])
		}
	}
	return p0
}

// runReduceW is runReduce for the workspaces whose scores read the padded
// W (scoresOnW) and keep no Wᵀ (float64): every element goes through the
// same operations in the same order, the partials summed in chunk order
// in the transposed layout (sumParts), then G = P + T(2·reg·W) and in update mode
// W + T(−lr·G), computed row by row of W and written straight into W's
// layout (and in update mode into the copy of W too). Adding W's term
// and writing both copies in the one pass that transposes the sum back
// ran the trainer's float64 update step ~1.3× faster on one thread than
// scaling Wᵀ and transposing it back twice, and the loss needs no Wᵀ
// copied in (docs/performance.md).
func (ws *LossWorkspace[T]) runReduceW(part int) {
	d, c, ldp := ws.d, ws.c, ws.ldp
	k0, k1 := reducePart(part, d)
	dst, W, wp := ws.dst, ws.w, ws.wp
	reg2, nlr := T(2*ws.reg), -T(ws.lr)
	if !ws.update {
		ws.sqPart[part] = sumSqRows(W, k0, k1)
	}
	p0 := ws.sumParts(k0, k1)
	for k := k0; k < k1; k++ {
		w := W.Data[k*W.Stride:][:c]
		pk := p0[k:]
		if !ws.update {
			g := dst.Data[k*dst.Stride:][:len(w)]
			for j, v := range w {
				g[j] = pk[j*ldp] + T(reg2*v)
			}
			continue
		}
		full, fs, inter, is, q8 := ws.wpRow(k)
		for j, v := range w[:q8] {
			v += T(nlr * (pk[j*ldp] + T(reg2*v)))
			w[j], wp[full+fs*j] = v, v
		}
		for j := q8; j < len(w); j++ {
			v := w[j]
			v += T(nlr * (pk[j*ldp] + T(reg2*v)))
			w[j], wp[inter+is*(j-q8)] = v, v
		}
	}
	if ws.update {
		ws.sqPart[part] = sumSqRows(W, k0, k1)
	}
}

// runPrep writes rows [k0, k1) of W (part of fusedReduceParts) into Wᵀ
// (if the workspace keeps one) and the packed W (from Wᵀ), or else into
// the packed or padded W.
func (ws *LossWorkspace[T]) runPrep(part int) {
	d, c, W := ws.d, ws.c, ws.w
	k0, k1 := reducePart(part, d)
	if k1 == k0 {
		return
	}
	if ws.wt != nil {
		fused.Transpose(k1-k0, c, W.Data[k0*W.Stride:], W.Stride, ws.wt[k0:], ws.ldp)
		if ws.packed {
			fused.PackRowsT(d, c, k0, k1, ws.wt, ws.ldp, ws.wp)
		}
		return
	}
	for k := k0; k < k1; k++ {
		ws.setWP(k, W.Data[k*W.Stride:][:c])
	}
}

var lossPools dtype.PerType[sync.Pool] // *LossWorkspace[T] for each T

func getWorkspace[T kernels.Float]() (*LossWorkspace[T], *sync.Pool) {
	p := dtype.Of[T](&lossPools)
	if ws, ok := p.Get().(*LossWorkspace[T]); ok {
		return ws, p
	}
	return NewLossWorkspace[T](), p
}

// Loss is the fast softmax loss: the same function and signature as
// LossNaive and LossVectorized (mean cross-entropy + reg·ΣW², gradient
// with 2·reg·W), computed by the fused, cache-blocked, parallel kernel of
// LossWorkspace with a pooled workspace; only the returned gradient is
// allocated. Results are bit-identical for any GOMAXPROCS.
func Loss[T kernels.Float](W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	checkLossArgs("Loss", W, X, y)
	ws, wsPool := getWorkspace[T]()
	dW := blas.NewMatrix[T](W.Rows, W.Cols)
	l := ws.Softmax(dW, W, X, y, reg)
	wsPool.Put(ws)
	return l, dW
}

// SVMLoss is the fast multiclass SVM loss, the counterpart of Loss for
// SVMLossNaive/SVMLossVectorized.
func SVMLoss[T kernels.Float](W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
	checkLossArgs("SVMLoss", W, X, y)
	ws, wsPool := getWorkspace[T]()
	dW := blas.NewMatrix[T](W.Rows, W.Cols)
	l := ws.SVM(dW, W, X, y, reg)
	wsPool.Put(ws)
	return l, dW
}
