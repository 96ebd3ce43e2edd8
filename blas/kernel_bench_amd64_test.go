//go:build amd64 && gc && !purego

package blas

import (
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// BenchmarkMicroKernel measures the AVX2 micro-kernels alone, on packed
// operands that stay in L1 (kc = 256).
func BenchmarkMicroKernel(b *testing.B) {
	if kernels.Detected() < kernels.AVX2 {
		b.Skip("no AVX2+FMA: the micro-kernels would fault")
	}
	const kc = 256
	b.Run("f32/packedA", func(b *testing.B) {
		a := alignedSlice[float32](mr * kc)
		bb := alignedSlice[float32](16 * kc)
		c := alignedSlice[float32](mr * 16)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			gemmKernelAVX2F32(kc, &a[0], 1, mr, &bb[0], 16, &c[0], 16, 1, 0, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*mr*16*kc*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
	b.Run("f32/rowA", func(b *testing.B) {
		a := alignedSlice[float32](mr * kc)
		bb := alignedSlice[float32](16 * kc)
		c := alignedSlice[float32](mr * 16)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			gemmKernelAVX2F32(kc, &a[0], kc, 1, &bb[0], 16, &c[0], 16, 1, 0, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*mr*16*kc*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
	b.Run("f64/packedA", func(b *testing.B) {
		a := alignedSlice[float64](mr * kc)
		bb := alignedSlice[float64](8 * kc)
		c := alignedSlice[float64](mr * 8)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			gemmKernelAVX2F64(kc, &a[0], 1, mr, &bb[0], 8, &c[0], 8, 1, 0, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*mr*8*kc*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
	// A whole float32 A block (21 packed tiles, mc = 126, in L2) against
	// one B micro-panel in L1, as the driver calls it on 2048³.
	b.Run("f32/block21", func(b *testing.B) {
		const kc, tiles = 512, 21
		a := alignedSlice[float32](tiles * mr * kc)
		bb := alignedSlice[float32](16 * kc)
		c := alignedSlice[float32](tiles * mr * 16)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			gemmKernelAVX2F32(kc, &a[0], 1, mr, &bb[0], 16, &c[0], 16, tiles, mr*kc, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*mr*16*kc*tiles*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
	b.Run("f64/block21", func(b *testing.B) {
		const kc, tiles = 256, 21
		a := alignedSlice[float64](tiles * mr * kc)
		bb := alignedSlice[float64](8 * kc)
		c := alignedSlice[float64](tiles * mr * 8)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			gemmKernelAVX2F64(kc, &a[0], 1, mr, &bb[0], 8, &c[0], 8, tiles, mr*kc, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*mr*8*kc*tiles*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
	b.Run("f32half/packedA", func(b *testing.B) {
		a := alignedSlice[float32](mr * kc)
		bb := alignedSlice[float32](16 * kc)
		c := alignedSlice[float32](mr * 8)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			gemmKernelAVX2F32Half(kc, &a[0], 1, mr, &bb[0], 16, &c[0], 8, 1, 0, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*mr*8*kc*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
}
