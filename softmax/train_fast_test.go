package softmax

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// refTrain is the reference trainer loop (the numpy notebook's): Choice,
// the vectorized loss, W -= lr·dW; W must be initialised.
func refTrain[T kernels.Float](kind Kind, W blas.Matrix[T], X blas.Matrix[T], y []int, cfg TrainConfig, rng *nprand.RandomState) []float64 {
	Xb := blas.NewMatrix[T](cfg.BatchSize, X.Cols)
	yb := make([]int, cfg.BatchSize)
	var hist []float64
	for it := 0; it < cfg.NumIters; it++ {
		idx := rng.Choice(X.Rows, cfg.BatchSize, true)
		for r, i := range idx {
			copy(Xb.Row(r), X.Row(i))
			yb[r] = y[i]
		}
		var loss float64
		var dW blas.Matrix[T]
		if kind == KindSVM {
			loss, dW = SVMLossVectorized(W, Xb, yb, cfg.Reg)
		} else {
			loss, dW = LossVectorized(W, Xb, yb, cfg.Reg)
		}
		hist = append(hist, loss)
		for i := range W.Data {
			W.Data[i] -= T(T(cfg.LearningRate) * dW.Data[i])
		}
	}
	return hist
}

// u8Problem returns CIFAR-like data: uint8 pixels minus their column mean,
// plus a bias column of ones, and labels in [0, c).
func u8Problem[T kernels.Float](seed uint64, n, d, c int) (blas.Matrix[T], []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	X := blas.NewMatrix[T](n, d+1)
	y := make([]int, n)
	mean := make([]float64, d)
	raw := make([]uint8, n*d)
	for i := range raw {
		raw[i] = uint8(rng.IntN(256))
		mean[i%d] += float64(raw[i]) / float64(n)
	}
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			X.Set(i, k, T(float64(raw[i*d+k])-mean[k]))
		}
		X.Set(i, d, 1)
		y[i] = rng.IntN(c)
	}
	return X, y
}

func relErr(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b))
}

func testTrainFastVsRef[T kernels.Float](t *testing.T, kind Kind, n, d, c, iters int, lr, reg, tol float64) {
	X, y := u8Problem[T](uint64(n*d+c), n, d, c)
	cfg := TrainConfig{LearningRate: lr, Reg: reg, NumIters: iters, BatchSize: 200}
	clf := &LinearClassifier[T]{Kind: kind}
	hist, err := clf.Train(X, y, cfg, nprand.New(1))
	if err != nil {
		t.Fatal(err)
	}
	// The reference from the same rng: W first, then the batches.
	rng := nprand.New(1)
	W := blas.NewMatrix[T](d+1, c)
	for i := range W.Data {
		W.Data[i] = T(0.001 * rng.StandardNormal())
	}
	want := refTrain(kind, W, X, y, cfg, rng)
	if len(hist) != len(want) {
		t.Fatalf("history has %d entries, want %d", len(hist), len(want))
	}
	for i := range hist {
		if e := relErr(hist[i], want[i]); !(e <= tol) {
			t.Fatalf("iteration %d: loss %v, reference %v (rel err %g > %g)", i, hist[i], want[i], e, tol)
		}
	}
	var num, den float64
	for i := range W.Data {
		e := float64(clf.W.Data[i] - W.Data[i])
		num += e * e
		den += float64(W.Data[i]) * float64(W.Data[i])
	}
	if e := math.Sqrt(num / den); !(e <= tol) {
		t.Fatalf("final W differs from the reference's: rel Frobenius error %g > %g", e, tol)
	}
}

// The fused trainer follows the reference trainer step for step (same rng
// stream, same updates up to summation order).
func TestTrainFastMatchesReference(t *testing.T) {
	for _, kind := range []Kind{KindSoftmax, KindSVM} {
		for _, sh := range []struct{ n, d, c, iters int }{{300, 40, 10, 60}, {1000, 3072, 10, 15}, {250, 17, 17, 40}, {230, 9, 2, 40}} {
			name := fmt.Sprintf("%v/N=%d,D=%d,C=%d", kind, sh.n, sh.d+1, sh.c)
			t.Run("f64/"+name, func(t *testing.T) {
				testTrainFastVsRef[float64](t, kind, sh.n, sh.d, sh.c, sh.iters, 1e-7, 2.5e4, 1e-10)
			})
			t.Run("f32/"+name, func(t *testing.T) {
				testTrainFastVsRef[float32](t, kind, sh.n, sh.d, sh.c, sh.iters, 1e-7, 2.5e4, 1e-4)
			})
		}
	}
}

// A short CIFAR-shaped run gives bit-identical models and loss histories
// (the regulariser term uses the ΣW² the parallel update returns) for any
// GOMAXPROCS, on every ISA level.
func TestTrainFastGOMAXPROCS(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			t.Run("f32", func(t *testing.T) { testTrainGOMAXPROCS[float32](t) })
			t.Run("f64", func(t *testing.T) { testTrainGOMAXPROCS[float64](t) })
		})
	}
}

func testTrainGOMAXPROCS[T kernels.Float](t *testing.T) {
	X, y := u8Problem[T](11, 1200, 3072, 10)
	var ref []byte
	var refHist []float64
	for _, p := range []int{1, 2, 3, 8} {
		prev := runtime.GOMAXPROCS(p)
		clf := NewSoftmax[T]()
		hist, err := clf.Train(X, y, TrainConfig{LearningRate: 1e-7, Reg: 2.5e4, NumIters: 20, BatchSize: 200}, nprand.New(0))
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(&clf.W.Data[0])), len(clf.W.Data)*int(unsafe.Sizeof(clf.W.Data[0])))
		if ref == nil {
			ref, refHist = slices.Clone(b), hist
		} else if !slices.Equal(ref, b) {
			t.Fatalf("GOMAXPROCS=%d: model bytes differ from GOMAXPROCS=1", p)
		} else if !slices.Equal(refHist, hist) {
			t.Fatalf("GOMAXPROCS=%d: loss history differs from GOMAXPROCS=1", p)
		}
	}
}

func TestTrainFastNoAllocPerIteration(t *testing.T) {
	X, y := u8Problem[float64](3, 400, 100, 10)
	src := MatrixSource(X)
	run := func(iters int) float64 {
		return testing.AllocsPerRun(3, func() {
			clf := NewSoftmax[float64]()
			if _, err := clf.TrainSource(src, y, TrainConfig{LearningRate: 1e-7, Reg: 1, NumIters: iters, BatchSize: 200}, nprand.New(0)); err != nil {
				t.Fatal(err)
			}
		})
	}
	if a, b := run(10), run(60); a != b {
		t.Fatalf("10 iterations allocate %v times, 60 iterations %v times: the loop allocates", a, b)
	}
}

func TestTrainFastDivergence(t *testing.T) {
	X, y := u8Problem[float64](5, 300, 50, 10)
	clf := NewSoftmax[float64]()
	hist, err := clf.Train(X, y, TrainConfig{LearningRate: 1e12, Reg: 1e3, NumIters: 50, BatchSize: 100}, nprand.New(0))
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v, want ErrDiverged", err)
	}
	it := len(hist) - 1
	if !strings.Contains(err.Error(), fmt.Sprintf("iteration %d", it)) {
		t.Fatalf("error %q does not name iteration %d", err, it)
	}
	if l := hist[it]; !math.IsNaN(l) && !math.IsInf(l, 0) {
		t.Fatalf("last loss %v is finite", l)
	}
	for i, l := range hist[:it] {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("loss %d is %v but training went on", i, l)
		}
	}
}

// batchStride keeps whole cache lines, never shrinks a row, and puts rows
// of 4 KiB or more 64 bytes past a multiple of 4 KiB apart (so that
// consecutive rows of a block fall in different L1 sets).
func TestBatchStride(t *testing.T) {
	check := func(size int, stride func(int) int) {
		for _, cols := range []int{1, 7, 8, 9, 100, 511, 512, 513, 1023, 1024, 3072, 3073, 4096, 10000} {
			ld := stride(cols)
			b := ld * size
			switch {
			case ld < cols:
				t.Errorf("size %d, cols %d: stride %d < cols", size, cols, ld)
			case b%64 != 0:
				t.Errorf("size %d, cols %d: stride %d is not whole lines", size, cols, ld)
			case b >= 4096 && b%4096 != 64:
				t.Errorf("size %d, cols %d: stride %d bytes is %d mod 4096, want 64", size, cols, b, b%4096)
			case b-cols*size >= 4096+64:
				t.Errorf("size %d, cols %d: stride %d wastes %d bytes a row", size, cols, ld, b-cols*size)
			}
		}
	}
	check(8, batchStride[float64])
	check(4, batchStride[float32])
}
