package train

import (
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// BenchmarkUpdate times one Step of every rule on a parameter the size of
// the CIFAR-10 two-layer net's W1 with 200 hidden units (3073·200), and
// reports ns per element.
func BenchmarkUpdate(b *testing.B) {
	for _, rule := range Rules {
		b.Run(rule+"/f32", func(b *testing.B) { benchUpdate[float32](b, rule) })
		b.Run(rule+"/f64", func(b *testing.B) { benchUpdate[float64](b, rule) })
	}
}

func benchUpdate[T kernels.Float](b *testing.B, rule string) {
	const n = 3073 * 200
	u, err := NewUpdate[T](rule, n)
	if err != nil {
		b.Fatal(err)
	}
	w, g := make([]T, n), make([]T, n)
	for i := range g {
		g[i] = T(i%17-8) * 1e-3
	}
	b.ResetTimer()
	for b.Loop() {
		u.Step(w, g, 1e-4)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
}
