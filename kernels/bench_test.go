package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/internal/dtype"
)

// benchLevels runs f as sub-benchmarks isa=<level> for every level the
// machine has.
func benchLevels(b *testing.B, f func(b *testing.B)) {
	for _, l := range Levels() {
		b.Run("isa="+l.String(), func(b *testing.B) {
			defer SetISA(l)()
			f(b)
		})
	}
}

func benchVec[T Float](n int, lo, hi float64) []T {
	r := rand.New(rand.NewPCG(uint64(n), 99))
	x := make([]T, n)
	for i := range x {
		x[i] = T(lo + (hi-lo)*r.Float64())
	}
	return x
}

func elemSize[T Float]() int {
	if dtype.Is32[T]() {
		return 4
	}
	return 8
}

// report reports GFLOP/s (if flopsPerElem > 0) and ns per element.
func report(b *testing.B, n int, flopsPerElem float64) {
	if flopsPerElem > 0 {
		b.ReportMetric(flopsPerElem*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(max(n, 1)), "ns/elem")
}

var sink64 float64

func BenchmarkDot(b *testing.B) {
	b.Run("f32", benchDot[float32])
	b.Run("f64", benchDot[float64])
}

func benchDot[T Float](b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		for _, n := range []int{10, 200, 3072} {
			x, y := benchVec[T](n, -1, 1), benchVec[T](n, -1, 1)
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				b.SetBytes(int64(2 * n * elemSize[T]()))
				var s T
				for i := 0; i < b.N; i++ {
					s += Dot(x, y)
				}
				sink64 += float64(s)
				report(b, n, 2)
			})
		}
	})
}

func BenchmarkAxpy(b *testing.B) {
	b.Run("f32", benchAxpy[float32])
	b.Run("f64", benchAxpy[float64])
}

func benchAxpy[T Float](b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		for _, n := range []int{200, 1024, 3072} {
			x, y := benchVec[T](n, -1, 1), benchVec[T](n, -1, 1)
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				b.SetBytes(int64(3 * n * elemSize[T]()))
				for i := 0; i < b.N; i++ {
					Axpy(1e-9, x, y)
				}
				report(b, n, 2)
			})
		}
	})
}

// BenchmarkLevel1 covers the simple streaming kernels at n=3072.
func BenchmarkLevel1(b *testing.B) {
	b.Run("f32", benchLevel1[float32])
	b.Run("f64", benchLevel1[float64])
}

func benchLevel1[T Float](b *testing.B) {
	const n = 3072
	x, y := benchVec[T](n, -1, 1), benchVec[T](n, -1, 1)
	src := make([]uint8, n)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	// MulTo runs y *= signs over and over: factors of magnitude 1 keep y
	// where it is, where x's values in (-1, 1) would drive it into
	// subnormals within a few hundred calls and time the slow path of
	// subnormal arithmetic instead of the kernel.
	signs := benchVec[T](n, -1, 1)
	for i, v := range signs {
		signs[i] = T(math.Copysign(1, float64(v)))
	}
	kernels := []struct {
		name  string
		bytes int
		f     func()
	}{
		{"Sum", 1, func() { sink64 += float64(Sum(x)) }},
		{"SumSq", 1, func() { sink64 += float64(SumSq(x)) }},
		{"Max", 1, func() { sink64 += float64(Max(x)) }},
		{"ArgMax", 1, func() { sink64 += float64(ArgMax(x)) }},
		{"Scale", 2, func() { Scale(1, y) }},
		{"AddTo", 3, func() { AddTo(y, x) }},
		{"MulTo", 3, func() { MulTo(y, signs) }},
		{"ReLU", 2, func() { ReLU(y, x) }},
		{"ReLUBackward", 3, func() { ReLUBackward(y, x) }},
		{"U8ToFloat", 2, func() { U8ToFloat(y, src, x) }},
	}
	for _, k := range kernels {
		b.Run(k.name, func(b *testing.B) {
			benchLevels(b, func(b *testing.B) {
				b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
					b.SetBytes(int64(k.bytes * n * elemSize[T]()))
					for i := 0; i < b.N; i++ {
						k.f()
					}
					report(b, n, 0)
				})
			})
		})
	}
}

func BenchmarkExp(b *testing.B) {
	const n = 4096
	b.Run("f32", func(b *testing.B) {
		x := benchVec[float32](n, -80, 0)
		d := make([]float32, n)
		benchLevels(b, func(b *testing.B) {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					Exp(d, x)
				}
				report(b, n, 0)
			})
		})
		// The baseline the issue names: a loop of float32(math.Exp(float64(x))).
		b.Run(fmt.Sprintf("impl=math.Exp/n=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for j, v := range x {
					d[j] = float32(math.Exp(float64(v)))
				}
			}
			report(b, n, 0)
		})
	})
	b.Run("f64", func(b *testing.B) {
		x := benchVec[float64](n, -700, 0)
		d := make([]float64, n)
		benchLevels(b, func(b *testing.B) {
			b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					Exp(d, x)
				}
				report(b, n, 0)
			})
		})
		b.Run(fmt.Sprintf("impl=math.Exp/n=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for j, v := range x {
					d[j] = math.Exp(v)
				}
			}
			report(b, n, 0)
		})
	})
}

func BenchmarkSoftmaxCERows(b *testing.B) {
	b.Run("f32", benchSoftmaxCE[float32])
	b.Run("f64", benchSoftmaxCE[float64])
}

func benchSoftmaxCE[T Float](b *testing.B) {
	benchLevels(b, func(b *testing.B) {
		for _, sh := range [][2]int{{200, 10}, {500, 10}, {200, 100}} {
			rows, cols := sh[0], sh[1]
			s := benchVec[T](rows*cols, -5, 5)
			ds := make([]T, rows*cols)
			y := make([]int, rows)
			for i := range y {
				y[i] = (i * 7) % cols
			}
			b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					sink64 += SoftmaxCERows(ds, s, rows, cols, cols, y, 1/T(rows))
				}
				report(b, rows*cols, 0)
			})
		}
	})
}

func BenchmarkSoftmaxRows(b *testing.B) {
	b.Run("f32", benchSoftmax[float32])
	b.Run("f64", benchSoftmax[float64])
}

func benchSoftmax[T Float](b *testing.B) {
	rows, cols := 200, 10
	s := benchVec[T](rows*cols, -5, 5)
	p := make([]T, rows*cols)
	benchLevels(b, func(b *testing.B) {
		b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				SoftmaxRows(p, s, rows, cols, cols)
			}
			report(b, rows*cols, 0)
		})
	})
}

func BenchmarkHingeRows(b *testing.B) {
	b.Run("f32", benchHinge[float32])
	b.Run("f64", benchHinge[float64])
}

func benchHinge[T Float](b *testing.B) {
	rows, cols := 200, 10
	s := benchVec[T](rows*cols, -2, 2)
	ds := make([]T, rows*cols)
	y := make([]int, rows)
	for i := range y {
		y[i] = (i * 7) % cols
	}
	benchLevels(b, func(b *testing.B) {
		b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink64 += HingeRows(ds, s, rows, cols, cols, y, 1/T(rows))
			}
			report(b, rows*cols, 0)
		})
	})
}

func BenchmarkRows(b *testing.B) {
	b.Run("f32", benchRows[float32])
	b.Run("f64", benchRows[float64])
}

// benchRows: the per-row kernels on the two-layer net's shapes.
func benchRows[T Float](b *testing.B) {
	rows, cols := 200, 100
	m := benchVec[T](rows*cols, -1, 1)
	bias := benchVec[T](cols, -1, 1)
	d := make([]T, cols)
	dr := make([]T, rows)
	kernels := []struct {
		name string
		f    func()
	}{
		{"AddBias", func() { AddBias(m, rows, cols, cols, bias) }},
		{"BiasReLU", func() { BiasReLU(m, rows, cols, cols, bias) }},
		{"ColSum", func() { ColSum(d, m, rows, cols, cols) }},
		{"RowMax", func() { RowMax(dr, m, rows, cols, cols) }},
	}
	for _, k := range kernels {
		b.Run(k.name, func(b *testing.B) {
			benchLevels(b, func(b *testing.B) {
				b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						k.f()
					}
					report(b, rows*cols, 0)
				})
			})
		})
	}
}
