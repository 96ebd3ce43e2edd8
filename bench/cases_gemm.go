package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// GemmShape is a product C = op(A)·op(B) of op(A) M×K by op(B) K×N (C is
// M×N); Op is "NN", "TN", "NT" or "TT" (whether A and B are transposed).
type GemmShape struct {
	Op      string
	M, K, N int
}

// The gemm family: blas.Gemm on the models' shapes and 2048³, per backend
// (blas.Use), dtype and thread count. Shapes are M×K×N of C = op(A)·op(B)
// (C is M×N, the inner dimension K):
//
//	NN 200x3072x200   X·W1, the two-layer net's first layer (batch 200)
//	TN 3072x200x200   Xᵀ·dH, its W1 gradient
//	NN 200x200x10     H·W2
//	NN 500x3073x10    X·W, the linear classifier's scores on the dev set
//	TN 3073x500x10    Xᵀ·dS, its gradient
//	NN 2048x2048x2048 the classic square benchmark
var gemmShapes = []GemmShape{
	{"NN", 200, 3072, 200},
	{"TN", 3072, 200, 200},
	{"NN", 200, 200, 10},
	{"NN", 500, 3073, 10},
	{"TN", 3073, 500, 10},
	{"NN", 2048, 2048, 2048},
}

func randMatrix[T kernels.Float](r *rand.Rand, rows, cols int) blas.Matrix[T] {
	m := blas.NewMatrix[T](rows, cols)
	for i := range m.Data {
		// rand.Float64 inlines to u·2⁻⁵³ and 2·x becomes x + x: without the
		// conversion, GOAMD64=v3 fuses them into FMA(u, 2⁻⁵³, u·2⁻⁵³).
		m.Data[i] = T(2*float64(r.Float64()) - 1)
	}
	return m
}

func gemmCasesT[T kernels.Float](shapes []GemmShape) []*Case {
	dt := dtypeName[T]()
	var cs []*Case
	for _, sh := range shapes {
		sh := sh
		flops := 2 * float64(sh.M) * float64(sh.K) * float64(sh.N)
		for _, th := range threadCounts(runtime.NumCPU()) {
			for _, be := range gemmBackends() {
				be := be
				cs = append(cs, &Case{
					Family: "gemm", Op: sh.Op, DType: dt, Impl: be.name, Level: be.level, Threads: th,
					Shape: fmt.Sprintf("%dx%dx%d", sh.M, sh.K, sh.N),
					FLOPs: flops, Peak: PeakFMA, Compare: be.compare,
					Slow: be.slowFLOPs > 0 && flops > be.slowFLOPs,
					Setup: func(tiny bool) (Op, error) {
						m, k, n := sh.M, sh.K, sh.N
						if tiny {
							m, k, n = 5, 7, 3
						}
						restore, err := useBackend(be.name) // fail early on an unknown backend
						if err != nil {
							return Op{}, err
						}
						restore()
						r := rand.New(rand.NewPCG(3, 4))
						var a, b blas.Matrix[T]
						transA, transB := sh.Op[0] == 'T', sh.Op[1] == 'T'
						if transA {
							a = randMatrix[T](r, k, m)
						} else {
							a = randMatrix[T](r, m, k)
						}
						if transB {
							b = randMatrix[T](r, n, k)
						} else {
							b = randMatrix[T](r, k, n)
						}
						c := blas.NewMatrix[T](m, n)
						return Op{
							// Switch the backend around each sample: the runner
							// interleaves the samples of the backends.
							Run: func(reps int) {
								restore, _ := useBackend(be.name)
								defer restore()
								for i := 0; i < reps; i++ {
									blas.Gemm(transA, transB, 1, a, b, 0, c)
								}
							},
							ISA: be.isa,
						}, nil
					},
				})
			}
		}
	}
	return cs
}

func init() {
	registerGen(func() []*Case { return GemmCases(gemmShapes...) })
}

// NewGemmShape checks op and the sizes and returns the shape.
func NewGemmShape(op string, m, k, n int) (GemmShape, error) {
	switch op {
	case "NN", "TN", "NT", "TT":
	default:
		return GemmShape{}, fmt.Errorf("op %q: want NN, TN, NT or TT", op)
	}
	if m < 1 || k < 1 || n < 1 {
		return GemmShape{}, fmt.Errorf("shape %dx%dx%d: sizes must be positive", m, k, n)
	}
	return GemmShape{op, m, k, n}, nil
}

// GemmCases returns the gemm cases of the given shapes (not registered):
// every backend compiled in (native once per ISA level), f32 and f64, one
// and all threads, with the built-in cases' names
// (gemm/OP/dtype/impl/isa=L/threads=T/MxKxN). For Options.Cases.
func GemmCases(shapes ...GemmShape) []*Case {
	return append(gemmCasesT[float32](shapes), gemmCasesT[float64](shapes)...)
}
