package blas_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/pool"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/twolayer"
)

// TestSetMaxWorkersSameBits checks the reproducibility SetMaxWorkers
// documents: at GOMAXPROCS 3, a Gemm large enough to run in parts, a
// seeded softmax training and a seeded two-layer training give the same
// bits with 1 worker, 3 workers and no cap (float32 and float64).
func TestSetMaxWorkersSameBits(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testMaxWorkersSameBits[float32](t) })
	t.Run("f64", func(t *testing.T) { testMaxWorkersSameBits[float64](t) })
}

func testMaxWorkersSameBits[T float32 | float64](t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	defer blas.SetMaxWorkers(blas.SetMaxWorkers(0))
	rng := rand.New(rand.NewPCG(5, 6))
	randMat := func(r, c int) blas.Matrix[T] {
		m := blas.NewMatrix[T](r, c)
		for i := range m.Data {
			m.Data[i] = T(rng.NormFloat64())
		}
		return m
	}
	const n, d, classes = 256, 200, 10
	a, b := randMat(300, 400), randMat(400, 200)
	X := randMat(n, d)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(classes)
	}
	run := func() []float64 {
		var out []float64
		c := blas.NewMatrix[T](300, 200)
		blas.Gemm(false, false, 1, a, b, 0, c)
		out = appendBits(out, c.Data)
		clf := softmax.NewSoftmax[T]()
		hist, err := clf.Train(X, y, softmax.TrainConfig{LearningRate: 1e-3, Reg: 1e-3, NumIters: 8, BatchSize: 200}, nprand.New(1))
		if err != nil {
			t.Fatal(err)
		}
		out = append(appendBits(out, clf.W.Data), hist...)
		net := twolayer.New[T](d, 50, classes, 1e-2, nprand.New(2))
		st, err := net.Train(X, y, X, y, twolayer.TrainConfig{LearningRate: 1e-2, LearningRateDecay: 1, Reg: 1e-3, NumIters: 4, BatchSize: 200}, nprand.New(3))
		if err != nil {
			t.Fatal(err)
		}
		out = appendBits(appendBits(out, net.W1.Data), net.W2.Data)
		return append(out, st.LossHistory...)
	}
	var ref []float64
	for _, c := range []struct{ limit, workers int }{{1, 1}, {3, 3}, {0, 3}} {
		limit := c.limit
		blas.SetMaxWorkers(limit)
		if w, want := pool.Workers(), c.workers; w != want {
			t.Fatalf("SetMaxWorkers(%d) at GOMAXPROCS 3: %d workers, want %d", limit, w, want)
		}
		got := run()
		if ref == nil {
			ref = got
			continue
		}
		if i := firstDiff(got, ref); i >= 0 {
			t.Errorf("SetMaxWorkers(%d): value %d of %d differs from 1 worker's: %v, want %v", limit, i, len(ref), got[i], ref[i])
		}
	}
}

// appendBits appends v to dst as float64 (exact for both types), so NaN
// payloads and signed zeros compare by bits in firstDiff.
func appendBits[T float32 | float64](dst []float64, v []T) []float64 {
	for _, x := range v {
		dst = append(dst, float64(x))
	}
	return dst
}

func firstDiff(a, b []float64) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestSetSpinWait checks that blas.SetSpinWait sets the pool's spin wait
// (it returns what was set before) and clamps a negative one to 0.
func TestSetSpinWait(t *testing.T) {
	orig := blas.SetSpinWait(-time.Second)
	defer blas.SetSpinWait(orig)
	if got := blas.SetSpinWait(time.Millisecond); got != 0 {
		t.Errorf("after SetSpinWait(-1s): previous setting %v, want 0", got)
	}
	if got := blas.SetSpinWait(orig); got != time.Millisecond {
		t.Errorf("after SetSpinWait(1ms): previous setting %v, want 1ms", got)
	}
	if got := blas.SetMaxWorkers(2); got != 0 {
		t.Errorf("SetMaxWorkers: previous cap %d, want 0 (none)", got)
	}
	if got := blas.SetMaxWorkers(0); got != 2 {
		t.Errorf("SetMaxWorkers(0): previous cap %d, want 2", got)
	}
}

// A server that embeds nnkern keeps each call to two threads and stops
// idle workers from polling; the product is the same bits as without.
func ExampleSetMaxWorkers() {
	defer blas.SetMaxWorkers(blas.SetMaxWorkers(2))
	defer blas.SetSpinWait(blas.SetSpinWait(0))

	a := blas.NewMatrix[float64](300, 300)
	for i := range a.Data {
		a.Data[i] = float64(i%7) - 3
	}
	c := blas.NewMatrix[float64](300, 300)
	blas.Gemm(false, false, 1, a, a, 0, c) // c = a·a on at most 2 threads
	fmt.Println(c.At(0, 0), c.At(299, 299))
	// Output: -295 -295
}
