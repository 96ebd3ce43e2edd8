package gonumblas

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/blas/testblas"
	"gonum.org/v1/gonum/mat"
)

// The benchmarks compare gonum's pure Go (blas=gonum) with this package
// (blas=nnkern) on the same operands, as sub-benchmarks of one case, so
// benchstat can put them side by side (benchstat -col /blas):
//
//	GOMAXPROCS=2 go test -run X -bench 'Mul|Solve' -count 3 ./blas/gonumblas
//
// go test runs each sub-benchmark its -count times in a row, gonum's
// first, then nnkern's.

var impls = []struct {
	name string
	impl blas.Float64
}{
	{"gonum", gonum.Implementation{}},
	{"nnkern", Implementation{}},
}

// useBLAS makes gonum/mat run on impl until the benchmark ends.
func useBLAS(b *testing.B, impl blas.Float64) {
	prev := blas64.Implementation()
	blas64.Use(impl)
	b.Cleanup(func() { blas64.Use(prev) })
}

func randDense(rng *rand.Rand, r, c int) *mat.Dense {
	return mat.NewDense(r, c, randSlice[float64](rng, r*c))
}

// BenchmarkMul is mat.Dense.Mul of two n×n float64 matrices (one Dgemm).
func BenchmarkMul(b *testing.B) {
	const n = 1024
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randDense(rng, n, n), randDense(rng, n, n)
	c := mat.NewDense(n, n, nil)
	for _, im := range impls {
		b.Run(fmt.Sprintf("f64/blas=%s/%dx%dx%d", im.name, n, n, n), func(b *testing.B) {
			useBLAS(b, im.impl)
			for b.Loop() {
				c.Mul(x, y)
			}
			b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSolve is an LU factorization (LAPACK Dgetrf: blocked, its
// trailing updates are Dgemm; its panel and triangular solves stay
// gonum's) and solve of an n×n float64 system with one right-hand side.
func BenchmarkSolve(b *testing.B) {
	const n = 2048
	rng := rand.New(rand.NewPCG(2, 2))
	a := randDense(rng, n, n)
	for i := 0; i < n; i++ {
		a.Set(i, i, a.At(i, i)+n) // well conditioned
	}
	rhs := mat.NewVecDense(n, randSlice[float64](rng, n))
	var x mat.VecDense
	for _, im := range impls {
		b.Run(fmt.Sprintf("LU/f64/blas=%s/%d", im.name, n), func(b *testing.B) {
			useBLAS(b, im.impl)
			for b.Loop() {
				var lu mat.LU
				lu.Factorize(a)
				if err := lu.SolveVecTo(&x, false, rhs); err != nil {
					b.Fatal(err)
				}
			}
			// LU is 2/3·n³ flops (the solve's 2·n² is negligible).
			b.ReportMetric(2.0/3*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDgemm is gonum's own Dgemm benchmark (testblas) on both.
func BenchmarkDgemm(b *testing.B) {
	for _, im := range impls {
		for _, n := range []int{64, 256} {
			for _, tr := range []struct {
				name   string
				tA, tB blas.Transpose
			}{{"NN", blas.NoTrans, blas.NoTrans}, {"TN", blas.Trans, blas.NoTrans}, {"NT", blas.NoTrans, blas.Trans}} {
				b.Run(fmt.Sprintf("blas=%s/%s/%dx%dx%d", im.name, tr.name, n, n, n), func(b *testing.B) {
					testblas.DgemmBenchmark(b, im.impl, n, n, n, tr.tA, tr.tB)
				})
			}
		}
	}
}
