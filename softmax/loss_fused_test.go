package softmax

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/gradcheck"
	"github.com/nnkern/nnkern/internal/allocstest"
	"github.com/nnkern/nnkern/kernels"
)

// fusedOracle is an explicit-loop float64 softmax / SVM loss used to check
// the fused kernels independently of the package's own references.
func fusedOracle(svm bool, W, X [][]float64, y []int, reg float64) (float64, [][]float64) {
	n, d, c := len(X), len(W), len(W[0])
	dW := make([][]float64, d)
	for k := range dW {
		dW[k] = make([]float64, c)
	}
	var loss float64
	s := make([]float64, c)
	ds := make([]float64, c)
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			s[j] = 0
			for k := 0; k < d; k++ {
				s[j] += X[i][k] * W[k][j]
			}
		}
		if svm {
			cnt := 0.0
			for j := 0; j < c; j++ {
				ds[j] = 0
				if j == y[i] {
					continue
				}
				if m := s[j] - s[y[i]] + 1; m > 0 {
					loss += m
					ds[j] = 1
					cnt++
				}
			}
			ds[y[i]] = -cnt
		} else {
			m := math.Inf(-1)
			for _, v := range s {
				m = math.Max(m, v)
			}
			var z float64
			for j := range s {
				ds[j] = math.Exp(s[j] - m)
				z += ds[j]
			}
			loss += math.Log(z) - (s[y[i]] - m)
			for j := range ds {
				ds[j] /= z
			}
			ds[y[i]]--
		}
		for k := 0; k < d; k++ {
			for j := 0; j < c; j++ {
				dW[k][j] += X[i][k] * ds[j] / float64(n)
			}
		}
	}
	loss /= float64(n)
	for k := range W {
		for j := range W[k] {
			loss += reg * W[k][j] * W[k][j]
			dW[k][j] += 2 * reg * W[k][j]
		}
	}
	return loss, dW
}

// fusedRandProblem returns W (D×C, stride padded by wpad), X (N×D, stride
// padded by xpad) and labels, as T, plus their float64 values.
func fusedRandProblem[T kernels.Float](rng *rand.Rand, n, d, c, xpad, wpad int, wscale float64) (W, X blas.Matrix[T], y []int, W64, X64 [][]float64) {
	W = blas.Matrix[T]{Rows: d, Cols: c, Stride: c + wpad, Data: make([]T, d*(c+wpad))}
	X = blas.Matrix[T]{Rows: n, Cols: d, Stride: d + xpad, Data: make([]T, n*(d+xpad))}
	for i := range W.Data {
		W.Data[i] = T(math.NaN()) // padding must never be read
	}
	for i := range X.Data {
		X.Data[i] = T(math.NaN())
	}
	W64 = make([][]float64, d)
	for k := range W64 {
		W64[k] = make([]float64, c)
		for j := range W64[k] {
			v := T(wscale * rng.NormFloat64())
			W.Set(k, j, v)
			W64[k][j] = float64(v)
		}
	}
	X64 = make([][]float64, n)
	y = make([]int, n)
	for i := range X64 {
		X64[i] = make([]float64, d)
		for k := range X64[i] {
			v := T(rng.NormFloat64() * 10)
			X.Set(i, k, v)
			X64[i][k] = float64(v)
		}
		y[i] = rng.IntN(c)
	}
	return
}

// frobRel returns ‖a−b‖_F / ‖b‖_F (‖a−b‖_F when ‖b‖_F == 0).
func frobRel[T kernels.Float](a blas.Matrix[T], b [][]float64) float64 {
	var num, den float64
	for k := range b {
		for j := range b[k] {
			e := float64(a.At(k, j)) - b[k][j]
			num += e * e
			den += b[k][j] * b[k][j]
		}
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

var fusedShapes = []struct{ n, d, c int }{
	{1, 1, 1}, {1, 3, 2}, {2, 1, 10}, {3, 5, 2}, {7, 13, 10}, {15, 40, 10}, {17, 33, 4},
	{33, 65, 10}, {31, 7, 17}, {64, 100, 16}, {65, 129, 8}, {257, 31, 3}, {97, 3073, 10}, {500, 3073, 10},
}

func testFusedLoss[T kernels.Float](t *testing.T, svm bool) {
	tol := 1e-10
	var z T
	if unsafe.Sizeof(z) == 4 {
		tol = 1e-4
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sh := range fusedShapes {
		regs := []float64{0, 0.5, 2.5e4}
		if sh.d > 1000 {
			regs = []float64{2.5e4} // large shapes: the oracle is slow
		}
		for _, reg := range regs {
			W, X, y, W64, X64 := fusedRandProblem[T](rng, sh.n, sh.d, sh.c, rng.IntN(3), rng.IntN(2), 1e-3)
			wantL, wantG := fusedOracle(svm, W64, X64, y, reg)
			for _, lvl := range kernels.Levels() {
				restore := kernels.SetISA(lvl)
				name := fmt.Sprintf("isa=%s/N=%d,D=%d,C=%d,reg=%g", lvl, sh.n, sh.d, sh.c, reg)
				var gotL float64
				var gotG blas.Matrix[T]
				if svm {
					gotL, gotG = SVMLoss(W, X, y, reg)
				} else {
					gotL, gotG = Loss(W, X, y, reg)
				}
				restore()
				if e := math.Abs(gotL-wantL) / max(math.Abs(wantL), 1e-300); !(e <= tol) && gotL != wantL {
					t.Errorf("%s: loss %v, oracle %v (rel err %g > %g)", name, gotL, wantL, e, tol)
				}
				if e := frobRel(gotG, wantG); !(e <= tol) {
					t.Errorf("%s: gradient rel Frobenius error %g > %g", name, e, tol)
				}
			}
		}
	}
}

func TestLossFusedVsOracle(t *testing.T) {
	t.Run("f64/softmax", func(t *testing.T) { testFusedLoss[float64](t, false) })
	t.Run("f32/softmax", func(t *testing.T) { testFusedLoss[float32](t, false) })
	t.Run("f64/svm", func(t *testing.T) { testFusedLoss[float64](t, true) })
	t.Run("f32/svm", func(t *testing.T) { testFusedLoss[float32](t, true) })
}

// The result must not depend on GOMAXPROCS: bit-identical loss and dW,
// for both losses and both precisions.
func TestLossFusedDeterministic(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testLossFusedDeterministic[float32](t) })
	t.Run("f64", func(t *testing.T) { testLossFusedDeterministic[float64](t) })
}

func testLossFusedDeterministic[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{200, 500, 77, 150, 40} {
		W, X, y, _, _ := fusedRandProblem[T](rng, n, 3073, 10, 0, 0, 1e-3)
		for _, svm := range []bool{false, true} {
			var ref []T
			var refL float64
			for _, p := range []int{1, 2, 3, 8} {
				prev := runtime.GOMAXPROCS(p)
				l, g := Loss(W, X, y, 2.5e4)
				if svm {
					l, g = SVMLoss(W, X, y, 2.5e4)
				}
				runtime.GOMAXPROCS(prev)
				if ref == nil {
					ref, refL = g.Data, l
					continue
				}
				if l != refL || !slices.Equal(g.Data, ref) {
					t.Fatalf("N=%d svm=%v: GOMAXPROCS=%d gives a different result than GOMAXPROCS=1", n, svm, p)
				}
			}
		}
	}
}

func TestLossWorkspaceNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	W, X, y, _, _ := fusedRandProblem[float64](rng, 200, 300, 10, 1, 0, 1e-3)
	ws := NewLossWorkspace[float64]()
	dW := blas.NewMatrix[float64](300, 10)
	ws.Softmax(dW, W, X, y, 1)
	if a := testing.AllocsPerRun(20, func() { ws.Softmax(dW, W, X, y, 1); ws.SVM(dW, W, X, y, 1) }); a != 0 {
		t.Fatalf("LossWorkspace allocates %v times per call", a)
	}
}

// TestLossWorkspaceNoAllocParallel: TestLossWorkspaceNoAlloc runs at
// GOMAXPROCS 1 (testing.AllocsPerRun sets it), where pool.Group.Run only
// loops over the chunks; here the process-wide malloc count is read
// around losses whose chunks and reduce parts run on the pool at
// GOMAXPROCS 2 and 3. One allocation per call would count 2·calls; up to
// calls/2 is tolerated for the runtime's own (sudogs when the caller or a
// worker parks after a GC cycle emptied the sudog caches).
func TestLossWorkspaceNoAllocParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	W, X, y, _, _ := fusedRandProblem[float64](rng, 400, 300, 10, 1, 0, 1e-3)
	ws := NewLossWorkspace[float64]()
	dW := blas.NewMatrix[float64](300, 10)
	const calls = 40
	allocstest.CheckParallel(t, "pairs of LossWorkspace losses", []int{2, 3}, 5, calls, calls/2, func() {
		ws.Softmax(dW, W, X, y, 1)
		ws.SVM(dW, W, X, y, 1)
	})
}

// Every gradient element of the fused losses against gradcheck.Numerical
// on small problems (the reference tests' TestFullGradCheck setting), on
// every ISA level. SVM elements whose stencil straddles a hinge kink
// (svmKinkNear) are excluded from the comparison, and at most a quarter
// may be.
func TestLossFusedGradcheck(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		defer kernels.SetISA(lvl)()
		for _, svm := range []bool{false, true} {
			for _, reg := range []float64{0, 0.3} {
				W, X, y := cifarLike(5, 37, 8, 10, 1e-2)
				for i := range X.Data {
					X.Data[i] /= 50 // keep the scores O(1)
				}
				loss := Loss[float64]
				if svm {
					loss = SVMLoss[float64]
				}
				_, grad := loss(W, X, y, reg)
				num := gradcheck.Numerical(func() float64 { l, _ := loss(W, X, y, reg); return l }, W.Data, 1e-5)
				var a, n []float64
				for e := range W.Data {
					if svm && svmKinkNear(W, X, y, e, 1e-5) {
						continue
					}
					a, n = append(a, grad.Data[e]), append(n, num[e])
				}
				if len(a) < len(W.Data)*3/4 {
					t.Fatalf("isa=%s svm=%v: %d of %d elements at kinks", lvl, svm, len(W.Data)-len(a), len(W.Data))
				}
				if e := gradcheck.RelError(n, a); e > 1e-7 {
					t.Errorf("isa=%s svm=%v reg=%g: RelError(numerical, fused) = %g > 1e-7", lvl, svm, reg, e)
				}
			}
		}
	}
}

func TestLossFusedPanics(t *testing.T) {
	W := blas.NewMatrix[float64](4, 3)
	X := blas.NewMatrix[float64](2, 4)
	ws := NewLossWorkspace[float64]()
	for _, tc := range []struct {
		name, want string // want: a part of the message naming the argument and shapes
		f          func()
	}{
		{"X.Cols != W.Rows", "softmax.Loss: X is 2×5 but W is 4×3", func() { Loss(W, blas.NewMatrix[float64](2, 5), []int{0, 1}, 0) }},
		{"len(y)", "softmax.Loss: len(y)=1 != X.Rows=2", func() { Loss(W, X, []int{0}, 0) }},
		{"label", "softmax.SVMLoss: y[1]=3 out of range [0, 3)", func() { SVMLoss(W, X, []int{0, 3}, 0) }},
		{"negative label", "softmax.Loss: y[0]=-1 out of range", func() { Loss(W, X, []int{-1, 0}, 0) }},
		{"empty X", "softmax.Loss: X is empty (0×4)", func() { Loss(W, blas.NewMatrix[float64](0, 4), nil, 0) }},
		{"short Data", "softmax.Loss: X:", func() {
			Loss(W, blas.Matrix[float64]{Rows: 2, Cols: 4, Stride: 4, Data: make([]float64, 7)}, []int{0, 0}, 0)
		}},
		{"dW shape", "softmax.LossWorkspace.Softmax: dW is 3×4", func() { ws.Softmax(blas.NewMatrix[float64](3, 4), W, X, []int{0, 1}, 0) }},
		{"dW is W", "softmax.LossWorkspace.SVM: dW and W (4×3) share their storage", func() { ws.SVM(W, W, X, []int{0, 1}, 0) }},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Errorf("%s: no panic", tc.name)
				} else if s := fmt.Sprint(r); !strings.Contains(s, tc.want) {
					t.Errorf("%s: panic %q does not contain %q", tc.name, s, tc.want)
				}
			}()
			tc.f()
		}()
	}
}

// BenchmarkLoss is the softmax dev-set workload of the reference notebook:
// loss and gradient for N=500 rows, D=3073, C=10 (numpy_peer.py's
// softmax_loss_vectorized_n500_s).
func BenchmarkLoss(b *testing.B) {
	b.Run("f64/500x3073x10", func(b *testing.B) { benchFusedLoss[float64](b, 500, 3073, 10) })
	b.Run("f32/500x3073x10", func(b *testing.B) { benchFusedLoss[float32](b, 500, 3073, 10) })
}

func benchFusedLoss[T kernels.Float](b *testing.B, n, d, c int) {
	rng := rand.New(rand.NewPCG(1, 2))
	W, X, y, _, _ := fusedRandProblem[T](rng, n, d, c, 0, 0, 1e-4)
	ws := NewLossWorkspace[T]()
	dW := blas.NewMatrix[T](d, c)
	for b.Loop() {
		ws.Softmax(dW, W, X, y, 2.5e4)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/op")
}

// The trainer's path, gathering each block from a Source inside the fused
// loss, computes bit for bit what the loss computes on the gathered batch
// (the kernels do not depend on the row stride or on where the rows come
// from), on every ISA level, for both losses and for C from 1 to wider
// than a SIMD vector (17).
func TestForwardBackwardSourceMatchesGathered(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			for _, sh := range []struct{ n, b, d, c int }{{50, 7, 13, 1}, {300, 200, 101, 10}, {90, 33, 3073, 10}, {40, 65, 8, 2}, {70, 130, 31, 17}} {
				t.Run(fmt.Sprintf("N=%d,B=%d,D=%d,C=%d", sh.n, sh.b, sh.d, sh.c), func(t *testing.T) {
					testFBSource[float64](t, sh.n, sh.b, sh.d, sh.c)
					testFBSource[float32](t, sh.n, sh.b, sh.d, sh.c)
				})
			}
		})
	}
}

func testFBSource[T kernels.Float](t *testing.T, n, b, d, c int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(b)))
	W, X, y, _, _ := fusedRandProblem[T](rng, n, d, c, 1, 0, 1e-2)
	idx := make([]int, b)
	yb := make([]int, b)
	for r := range idx {
		idx[r] = rng.IntN(n) // with repeats, as Choice(N, B, replace=True)
		yb[r] = y[idx[r]]
	}
	Xb := blas.NewMatrix[T](b, d)
	MatrixSource(X).Gather(Xb, idx)
	for _, kind := range []lossKind{kindSoftmax, kindSVM} {
		ws1, ws2 := NewLossWorkspace[T](), NewLossWorkspace[T]()
		dW1, dW2 := blas.NewMatrix[T](d, c), blas.NewMatrix[T](d, c)
		l1 := ws1.forwardBackward(kind, W, Xb, yb)
		sq1 := ws1.reduce(dW1, W, 0.5, 0, false)
		l2 := ws2.forwardBackwardSource(kind, W, MatrixSource(X), idx, yb, false)
		sq2 := ws2.reduce(dW2, W, 0.5, 0, false)
		if l1 != l2 || sq1 != sq2 || !slices.Equal(dW1.Data, dW2.Data) {
			t.Fatalf("kind %d: gathered-in-loss (loss %v, ΣW² %v) differs from gathered batch (loss %v, ΣW² %v) or dW differs", kind, l2, sq2, l1, sq1)
		}
		if math.IsNaN(l1) {
			t.Fatalf("kind %d: loss is NaN", kind)
		}
	}
}

// TestReduceSumSq: the ΣW² the reduction returns, summed part by part on
// the cores that reduce them, is sumSqW's (the trainer's first iteration
// computes it so, the later ones take the reduction's) bit for bit, for
// the W it read and in update mode for the W it wrote; for D below,
// at and above the number of parts, on every level and thread count; and
// it is ΣW² within float64 rounding.
func TestReduceSumSq(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			for _, procs := range []int{1, 2, 3} {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				testReduceSumSq[float64](t)
				testReduceSumSq[float32](t)
			}
		})
	}
}

func testReduceSumSq[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range []struct{ n, d, c int }{{3, 1, 2}, {10, 7, 3}, {70, 8, 10}, {200, 97, 10}, {130, 3073, 10}} {
		W, X, y, _, _ := fusedRandProblem[T](rng, sh.n, sh.d, sh.c, 1, 2, 1)
		ws := NewLossWorkspace[T]()
		dW := blas.NewMatrix[T](sh.d, sh.c)
		ws.forwardBackward(kindSoftmax, W, X, y)
		got, want := ws.reduce(dW, W, 0.1, 0, false), sumSqW(W)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%T %+v GOMAXPROCS=%d: reduce's ΣW² %v, sumSqW %v", got, sh, runtime.GOMAXPROCS(0), got, want)
		}
		plain := 0.0
		for k := 0; k < sh.d; k++ {
			for j := 0; j < sh.c; j++ {
				plain += float64(W.At(k, j)) * float64(W.At(k, j))
			}
		}
		if math.Abs(got-plain) > 1e-12*plain {
			t.Fatalf("%T %+v: ΣW² %v, plain sum %v", got, sh, got, plain)
		}
		ws.forwardBackward(kindSoftmax, W, X, y)
		got = ws.reduce(W, W, 0.1, 0.5, true)
		if want := sumSqW(W); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%T %+v GOMAXPROCS=%d, update: reduce's ΣW² %v, sumSqW of the new W %v", got, sh, runtime.GOMAXPROCS(0), got, want)
		}
	}
}

// fusedChunks depends on n alone and is a power of two up to
// fusedMaxChunks, so two (or four) tasks split the chunks evenly; it
// never falls as n grows, and every chunk gets at least
// fusedMinChunkRows rows.
func TestFusedChunks(t *testing.T) {
	want := map[int]int{1: 1, 31: 1, 32: 2, 64: 2, 65: 2, 128: 2, 129: 4, 150: 4, 192: 4, 193: 4, 200: 4, 500: 4, 49000: 4}
	ns := []int{49000, 1 << 20}
	for n := 1; n <= 1000; n++ {
		ns = append(ns, n)
	}
	for _, n := range ns {
		k := fusedChunks(n)
		if k < 1 || k > fusedMaxChunks || k&(k-1) != 0 {
			t.Fatalf("fusedChunks(%d) = %d, want a power of two in [1, %d]", n, k, fusedMaxChunks)
		}
		if n/k < fusedMinChunkRows && k > 1 {
			t.Fatalf("fusedChunks(%d) = %d: chunks of fewer than %d rows", n, k, fusedMinChunkRows)
		}
		if prev := fusedChunks(n - 1); n > 1 && prev > k {
			t.Fatalf("fusedChunks(%d) = %d < fusedChunks(%d) = %d", n, k, n-1, prev)
		}
		for c := range k {
			if c*n/k >= (c+1)*n/k {
				t.Fatalf("fusedChunks(%d) = %d: chunk %d is empty", n, k, c)
			}
		}
		if w, ok := want[n]; ok && k != w {
			t.Errorf("fusedChunks(%d) = %d, want %d", n, k, w)
		}
	}
}

// TestIsolated: isolated's buffers hold n zeroed elements, end at their
// capacity (an append never writes into the guard), start on a 64-byte
// line; and in a workspace sized by the trainer's path, the buffers one
// task writes (chunk partials, score and gathered blocks) are at least
// isolationBytes apart from each other, both ways.
func TestIsolated(t *testing.T) {
	testIsolated[float64](t)
	testIsolated[float32](t)
}

func testIsolated[T kernels.Float](t *testing.T) {
	t.Helper()
	for _, n := range []int{1, 7, 96, 30880, 24640} {
		b := isolated[T](n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("isolated(%d): len %d cap %d", n, len(b), cap(b))
		}
		if p := uintptr(unsafe.Pointer(&b[0])); p&63 != 0 {
			t.Errorf("isolated(%d) starts at %#x, not on a 64-byte line", n, p)
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("isolated(%d)[%d] = %v, want 0", n, i, v)
			}
		}
	}
	ws := NewLossWorkspace[T]()
	const d, c, n = 3073, 10, 200
	W := blas.NewMatrix[T](d, c)
	X := blas.NewMatrix[T](n, d)
	y := make([]int, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	ws.forwardBackwardSource(kindSoftmax, W, MatrixSource(X), idx, y, false)
	type span struct {
		name   string
		lo, hi uintptr
	}
	var spans []span
	add := func(name string, bufs [][]T) {
		for i, b := range bufs {
			lo := uintptr(unsafe.Pointer(&b[0]))
			spans = append(spans, span{fmt.Sprintf("%s[%d]", name, i), lo, lo + uintptr(len(b))*unsafe.Sizeof(b[0])})
		}
	}
	add("parts", ws.parts)
	add("scores", ws.scores)
	add("xblk", ws.xblk)
	if len(spans) != 3*fusedMaxChunks {
		t.Fatalf("%d buffers, want %d", len(spans), 3*fusedMaxChunks)
	}
	for i, a := range spans {
		for _, b := range spans[i+1:] {
			if a.hi+isolationBytes > b.lo && b.hi+isolationBytes > a.lo {
				t.Errorf("%T: %s [%#x, %#x) and %s [%#x, %#x) are less than %d bytes apart", *new(T), a.name, a.lo, a.hi, b.name, b.lo, b.hi, isolationBytes)
			}
		}
	}
}
