//go:build amd64 && gc && !purego

package blas

import (
	"testing"
	"unsafe"

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

// BenchmarkMicroKernelAVX512 measures the AVX-512 micro-kernels alone:
// one pair of packed A tiles against a packed B micro-panel (in L1), and
// a whole A block in L2 against one B micro-panel, as the driver calls
// them on 2048³.
func BenchmarkMicroKernelAVX512(b *testing.B) {
	if kernels.Detected() < kernels.AVX512 {
		b.Skip("no AVX-512: the AVX-512 micro-kernels would fault")
	}
	run := func(name string, kc, tiles, size int, f func(kc, tiles int, a, bb, c []byte)) {
		b.Run(name, func(b *testing.B) {
			nr := 64 / size * 2
			bytes := func(n int) []byte {
				s := alignedSlice[float64]((n*size + 7) / 8)
				return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), n*size)
			}
			a, bb, c := bytes(tiles*mr*kc), bytes(nr*kc), bytes(tiles*mr*nr)
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				f(kc, tiles, a, bb, c)
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(2*float64(mr*nr*kc*tiles)*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
		})
	}
	f32 := func(kc, tiles int, a, bb, c []byte) {
		p := func(s []byte) *float32 { return (*float32)(unsafe.Pointer(&s[0])) }
		gemmKernelAVX512F32(kc, p(a), 1, mr, p(bb), 32, p(c), 32, tiles, mr*kc, 1, 1, 1)
	}
	f64 := func(kc, tiles int, a, bb, c []byte) {
		p := func(s []byte) *float64 { return (*float64)(unsafe.Pointer(&s[0])) }
		gemmKernelAVX512F64(kc, p(a), 1, mr, p(bb), 16, p(c), 16, tiles, mr*kc, 1, 1, 1)
	}
	run("f32/pair", 256, 2, 4, f32)
	run("f32/block", 512, 42, 4, f32)
	run("f64/pair", 256, 2, 8, f64)
	run("f64/block", 256, 42, 8, f64)
	// f64/block on a C of 2048 columns (rows 16 KiB apart, as in
	// 2048³), one 16-column panel after another: the C tiles come from
	// memory and map to one L1 set per column of lines (see the C
	// prefetch in blas/_gen).
	b.Run("f64/block-C2048", func(b *testing.B) {
		const kc, tiles, nr, n = 256, 42, 16, 2048
		a := alignedSlice[float64](tiles * mr * kc)
		bb := alignedSlice[float64](nr * kc)
		c := alignedSlice[float64](tiles * mr * n)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			jr := i % (n / nr) * nr
			gemmKernelAVX512F64(kc, &a[0], 1, mr, &bb[0], nr, &c[jr], n, tiles, mr*kc, 1, 1, 1)
		}
		cpu := cpuTime() - cpu0
		b.ReportMetric(2*float64(mr*nr*kc*tiles)*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	})
}
