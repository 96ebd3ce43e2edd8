package twolayer

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// benchU8Source is a CIFAR-shaped uint8-backed Source for benchmarks:
// rows of d uint8 pixels converted to float minus the mean image on Gather
// (what cifar.Source does), no bias column.
type benchU8Source[T kernels.Float] struct {
	n, d int
	x    []uint8
	mean []T
}

func newBenchU8Source[T kernels.Float](n, d int, seed uint64) (*benchU8Source[T], []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &benchU8Source[T]{n: n, d: d, x: make([]uint8, n*d), mean: make([]T, d)}
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

func (s *benchU8Source[T]) Rows() int { return s.n }
func (s *benchU8Source[T]) Cols() int { return s.d }
func (s *benchU8Source[T]) Gather(dst blas.Matrix[T], idx []int) {
	for r, i := range idx {
		kernels.U8ToFloat(dst.Row(r), s.x[i*s.d:(i+1)*s.d], s.mean)
	}
}

// BenchmarkTrain is numpy_peer.py's twolayer_tuned_h200_2000it_s and
// twolayer_default_h50_1000it_s: batch 200 on 49000×3072 training rows,
// per-epoch accuracy on the batch and on 1000 validation rows, decay 0.95.
// One op is the whole run.
func BenchmarkTrain(b *testing.B) {
	for _, c := range []struct {
		h, iters int
		lr, reg  float64
	}{{200, 2000, 1e-3, 0.05}, {50, 1000, 1e-4, 0.25}} {
		b.Run(fmt.Sprintf("f64/H=%d/%dit", c.h, c.iters), func(b *testing.B) { benchTrain[float64](b, c.h, c.iters, c.lr, c.reg) })
		b.Run(fmt.Sprintf("f32/H=%d/%dit", c.h, c.iters), func(b *testing.B) { benchTrain[float32](b, c.h, c.iters, c.lr, c.reg) })
	}
}

func benchTrain[T kernels.Float](b *testing.B, h, iters int, lr, reg float64) {
	src, y := newBenchU8Source[T](50000, 3072, 1)
	tr, val := src.slice(0, 49000), src.slice(49000, 50000)
	for b.Loop() {
		net := New[T](3072, h, 10, 1e-4, nprand.New(0))
		cfg := TrainConfig{LearningRate: lr, LearningRateDecay: 0.95, Reg: reg, NumIters: iters, BatchSize: 200}
		if _, err := net.TrainSource(tr, y[:49000], val, y[49000:], cfg, nprand.New(0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

func (s *benchU8Source[T]) slice(i, j int) *benchU8Source[T] {
	return &benchU8Source[T]{n: j - i, d: s.d, x: s.x[i*s.d : j*s.d], mean: s.mean}
}

// BenchmarkIterBreakdown times the phases of one two-layer training
// iteration (batch 200, D=3072, H=200, C=10) — sampling+gather, forward
// with the softmax-CE, backward fused with the update — and, separately,
// the five GEMMs of the iteration alone on the same buffers.
func BenchmarkIterBreakdown(b *testing.B) {
	b.Run("f64/H=200", func(b *testing.B) { benchBreakdown[float64](b, 200) })
	b.Run("f32/H=200", func(b *testing.B) { benchBreakdown[float32](b, 200) })
}

func benchBreakdown[T kernels.Float](b *testing.B, h int) {
	const B, D, C = 200, 3072, 10
	src, y := newBenchU8Source[T](49000, D, 1)
	rng := nprand.New(0)
	net := New[T](D, h, C, 1e-4, rng)
	ws := NewWorkspace[T]()
	Xb := blas.NewMatrix[T](B, D)
	yb := make([]int, B)
	idx := make([]int, B)
	dW1, dW2 := blas.NewMatrix[T](D, h), blas.NewMatrix[T](h, C)
	var tG, tF, tB, tM time.Duration
	for b.Loop() {
		t0 := time.Now()
		for r := range idx {
			idx[r] = rng.Randint(0, 49000)
		}
		src.Gather(Xb, idx)
		for r, i := range idx {
			yb[r] = y[i]
		}
		t1 := time.Now()
		ws.lossForward(Xb, yb, net.W1, net.B1, net.W2, net.B2, 0.05)
		t2 := time.Now()
		ws.sgdStep(Xb, net.W1, net.B1, net.W2, net.B2, 0.05, 1e-3)
		t3 := time.Now()
		// the iteration's GEMMs alone, same shapes and operands
		H, dS, dH := ws.views(B)
		blas.Gemm(false, false, 1, Xb, net.W1, 0, H)
		blas.Gemm(false, false, 1, H, net.W2, 0, dS)
		blas.Gemm(false, true, 1, dS, net.W2, 0, dH)
		blas.Gemm(true, false, 1, H, dS, 0, dW2)
		blas.Gemm(true, false, 1, Xb, dH, 0, dW1)
		t4 := time.Now()
		tG, tF, tB, tM = tG+t1.Sub(t0), tF+t2.Sub(t1), tB+t3.Sub(t2), tM+t4.Sub(t3)
	}
	n := float64(b.N) * 1e3
	b.ReportMetric(float64(tG.Nanoseconds())/n, "gather-µs")
	b.ReportMetric(float64(tF.Nanoseconds())/n, "forward-µs")
	b.ReportMetric(float64(tB.Nanoseconds())/n, "backward+update-µs")
	b.ReportMetric(float64(tM.Nanoseconds())/n, "gemms-µs")
	b.ReportMetric(float64((tF+tB).Nanoseconds())/float64(tM.Nanoseconds()), "fwdbwd/gemms")
}
