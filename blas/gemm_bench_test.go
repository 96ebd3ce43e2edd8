package blas

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShape is one benchmarked product: op(A) is m×k, op(B) k×n.
type benchShape struct {
	tA      bool
	m, k, n int
	big     bool // skipped for gonum (seconds per call)
}

var benchShapes = []benchShape{
	{m: 200, k: 3072, n: 200},              // X·W1 (two-layer forward)
	{tA: true, m: 3072, k: 200, n: 200},    // Xᵀ·dH (dW1)
	{m: 200, k: 200, n: 10},                // H·W2
	{m: 200, k: 10, n: 200},                // rank-10 product (dS·W2ᵀ shape)
	{m: 500, k: 3073, n: 10},               // X·W (linear classifier)
	{tA: true, m: 3073, k: 500, n: 10},     // Xᵀ·dS (linear dW)
	{m: 2048, k: 2048, n: 2048, big: true}, // peak-efficiency probe
}

// BenchmarkGemm reports GFLOP/s (2·m·n·k per call) as
// BenchmarkGemm/{f32,f64}/{backend}/{NN,TN}/MxKxN, on the current ISA
// level (NNKERN_ISA selects another). Use -cpu 1 for one core. It also
// reports GFLOP per CPU-second of the process (user+system, all threads),
// which time slicing on a shared machine disturbs much less than wall time;
// on one core it estimates the rate the code would reach alone.
func BenchmarkGemm(b *testing.B) {
	b.Run("f32", func(b *testing.B) { benchGemm[float32](b) })
	b.Run("f64", func(b *testing.B) { benchGemm[float64](b) })
}

func benchGemm[T float](b *testing.B) {
	for _, be := range Backends() {
		b.Run(be, func(b *testing.B) {
			for _, s := range benchShapes {
				if s.big && be == "gonum" {
					continue
				}
				tr := "NN"
				if s.tA {
					tr = "TN"
				}
				b.Run(fmt.Sprintf("%s/%dx%dx%d", tr, s.m, s.k, s.n), func(b *testing.B) {
					rng := rand.New(rand.NewPCG(1, 1))
					ar, ac := s.m, s.k
					if s.tA {
						ar, ac = ac, ar
					}
					a := NewMatrix[T](ar, ac)
					for i := range a.Data {
						a.Data[i] = T(rng.Float64() - 0.5)
					}
					bm := NewMatrix[T](s.k, s.n)
					for i := range bm.Data {
						bm.Data[i] = T(rng.Float64() - 0.5)
					}
					c := NewMatrix[T](s.m, s.n)
					prev := Current()
					if err := Use(be); err != nil {
						b.Fatal(err)
					}
					defer Use(prev)
					Gemm(s.tA, false, 1, a, bm, 0, c)
					b.ResetTimer()
					cpu0 := cpuTime()
					for i := 0; i < b.N; i++ {
						Gemm(s.tA, false, 1, a, bm, 0, c)
					}
					cpu := cpuTime() - cpu0
					flop := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
					b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu > 0 {
						b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/cpu-s")
					}
				})
			}
		})
	}
}
