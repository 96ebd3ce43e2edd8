package blas

import (
	"fmt"
	"testing"
)

func BenchmarkExplore(b *testing.B) {
	for _, s := range [][3]int{{200, 3072, 200}, {198, 3072, 192}, {204, 3072, 208}, {198, 3072, 200}, {200, 3072, 192}} {
		b.Run(fmt.Sprintf("f32/%dx%dx%d", s[0], s[1], s[2]), func(b *testing.B) {
			a, bm, c := NewMatrix[float32](s[0], s[1]), NewMatrix[float32](s[1], s[2]), NewMatrix[float32](s[0], s[2])
			for i := range a.Data {
				a.Data[i] = float32(i%7) - 3
			}
			for i := range bm.Data {
				bm.Data[i] = float32(i%5) - 2
			}
			Gemm(false, false, 1, a, bm, 0, c)
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				Gemm(false, false, 1, a, bm, 0, c)
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(2*float64(s[0]*s[1]*s[2])*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
		})
	}
}
