package softmax

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// u8Source is a CIFAR-shaped uint8-backed Source for benchmarks: rows of
// d uint8 pixels, converted to float minus the mean image on Gather, plus
// a bias column of ones (what cifar.Source does).
type u8Source[T kernels.Float] struct {
	n, d int
	x    []uint8
	mean []T
}

func newU8Source[T kernels.Float](n, d int, seed uint64) (*u8Source[T], []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &u8Source[T]{n: n, d: d, x: make([]uint8, n*d), mean: make([]T, d)}
	sum := make([]float64, d)
	for i := range s.x {
		s.x[i] = uint8(rng.Uint32())
		sum[i%d] += float64(s.x[i])
	}
	for k := range s.mean {
		s.mean[k] = T(sum[k] / float64(n))
	}
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	return s, y
}

func (s *u8Source[T]) Rows() int { return s.n }
func (s *u8Source[T]) Cols() int { return s.d + 1 }
func (s *u8Source[T]) Gather(dst blas.Matrix[T], idx []int) {
	for r, i := range idx {
		row := dst.Row(r)
		kernels.U8ToFloat(row[:s.d], s.x[i*s.d:(i+1)*s.d], s.mean)
		row[s.d] = 1
	}
}

// BenchmarkTrain is numpy_peer.py's softmax_train_1500it_s: 1500 SGD
// iterations, batch 200, on a 49000×3073 training set (lr 1e-7, reg
// 2.5e4), here gathered from uint8 rows. One op is the whole run.
func BenchmarkTrain(b *testing.B) {
	b.Run("f64/1500it", func(b *testing.B) { benchTrain[float64](b, 1500) })
	b.Run("f32/1500it", func(b *testing.B) { benchTrain[float32](b, 1500) })
}

func benchTrain[T kernels.Float](b *testing.B, iters int) {
	src, y := newU8Source[T](49000, 3072, 1)
	for b.Loop() {
		clf := NewSoftmax[T]()
		if _, err := clf.TrainSource(src, y, TrainConfig{LearningRate: 1e-7, Reg: 2.5e4, NumIters: iters, BatchSize: 200}, nprand.New(0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

// BenchmarkTrainBreakdown times the phases of one softmax training
// iteration (batch 200, D=3073, C=10): sampling, gather, fused
// loss+gradient, SGD update; and, in the same iteration, what the trainer
// runs instead of gather and loss+gradient: the loss with the gather
// fused in block by block (forwardBackwardSource).
func BenchmarkTrainBreakdown(b *testing.B) {
	b.Run("f64", func(b *testing.B) { benchTrainBreakdown[float64](b) })
	b.Run("f32", func(b *testing.B) { benchTrainBreakdown[float32](b) })
}

// trainStepProblem is the trainer-step benchmarks' problem: a 49000×3072
// uint8 source, W (3073×10) ~ 1e-3·N(0, 1), a workspace, and the rng that
// drew W (it then draws the batches).
func trainStepProblem[T kernels.Float]() (*u8Source[T], []int, blas.Matrix[T], *LossWorkspace[T], *nprand.RandomState) {
	src, y := newU8Source[T](49000, 3072, 1)
	rng := nprand.New(0)
	W := blas.NewMatrix[T](3073, 10)
	for i := range W.Data {
		W.Data[i] = T(1e-3 * rng.StandardNormal())
	}
	return src, y, W, NewLossWorkspace[T](), rng
}

func benchTrainBreakdown[T kernels.Float](b *testing.B) {
	src, y, W, ws, rng := trainStepProblem[T]()
	Xb := batchMatrix[T](200, 3073)
	yb := make([]int, 200)
	idx := make([]int, 200)
	var tS, tG, tL, tU, tF time.Duration
	for b.Loop() {
		t0 := time.Now()
		for r := range idx {
			idx[r] = rng.Randint(0, 49000)
		}
		t1 := time.Now()
		src.Gather(Xb, idx)
		for r, i := range idx {
			yb[r] = y[i]
		}
		t2 := time.Now()
		ws.forwardBackward(kindSoftmax, W, Xb, yb)
		t3 := time.Now()
		ws.reduce(W, W, 2.5e4, 1e-7, true)
		t4 := time.Now()
		ws.forwardBackwardSource(kindSoftmax, W, src, idx, yb, true)
		t5 := time.Now()
		ws.reduce(W, W, 2.5e4, 1e-7, true)
		tS, tG, tL, tU, tF = tS+t1.Sub(t0), tG+t2.Sub(t1), tL+t3.Sub(t2), tU+t4.Sub(t3), tF+t5.Sub(t4)
	}
	n := float64(b.N) * 1e3
	b.ReportMetric(float64(tS.Nanoseconds())/n, "sample-µs")
	b.ReportMetric(float64(tG.Nanoseconds())/n, "gather-µs")
	b.ReportMetric(float64(tL.Nanoseconds())/n, "lossgrad-µs")
	b.ReportMetric(float64(tU.Nanoseconds())/n, "update-µs")
	b.ReportMetric(float64(tF.Nanoseconds())/n, "gather+lossgrad-fused-µs")
}

// batchMatrix returns a zeroed rows×cols matrix with the trainer's row
// stride (batchStride).
func batchMatrix[T kernels.Float](rows, cols int) blas.Matrix[T] {
	ld := batchStride[T](cols)
	return blas.Matrix[T]{Rows: rows, Cols: cols, Stride: ld, Data: make([]T, max(0, (rows-1)*ld+cols))}
}
