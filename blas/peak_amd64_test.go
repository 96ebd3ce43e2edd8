//go:build amd64 && gc && !purego

package blas

import (
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// BenchmarkPeakFMA measures one core's AVX2 FMA peak: 12 independent
// 256-bit FMA chains, no memory traffic. The f64 peak is half the f32 one
// (4 lanes instead of 8, same throughput).
func BenchmarkPeakFMA(b *testing.B) {
	if kernels.Detected() < kernels.AVX2 {
		b.Skip("no AVX2+FMA")
	}
	const iters = 1 << 20
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		fmaPeakAVX2(iters)
	}
	cpu := cpuTime() - cpu0
	flop := 192 * float64(iters) * float64(b.N)
	b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "f32-GFLOP/s")
	b.ReportMetric(flop/2/b.Elapsed().Seconds()/1e9, "f64-GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flop/cpu.Seconds()/1e9, "f32-GFLOP/cpu-s")
	}
}
