package bench

import (
	"fmt"
	"github.com/nnkern/nnkern/cifar"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// The "iteration" family: one SGD iteration of the two-layer net (batch
// B = 200, D = 3072, H = 200 or 50, C = 10) broken into its phases, each
// timed on its own, built from the public kernels and blas.Gemm:
//
//	gather    200 random rows of a 49000×3072 uint8 training set to float,
//	          mean image subtracted (cifar.Gather, as the trainers do: one
//	          kernels.U8ToFloat pass per row block, split over the worker
//	          pool when more than one core is allowed)
//	forward   H = max(0, X·W1 + b1) (Gemm, BiasReLU); S = H·W2 + b2 (Gemm,
//	          AddBias); loss and dS = (P − onehot)/B (SoftmaxCERows)
//	backward  dW2 = Hᵀ·dS, db2 = colsum(dS), dH = dS·W2ᵀ masked by the ReLU,
//	          dW1 = Xᵀ·dH, db1 = colsum(dH)
//	update    dW += 2·reg·W, W −= lr·dW for W1, b1, W2, b2 (Axpy)
//	matmuls   the five GEMMs of forward and backward alone
//	composed  gather + forward + backward + update in sequence
//
// "composed" compares with "matmuls": the share of an iteration that is not
// matrix products. The models' own iteration (package twolayer) joins the
// group when it lands.

const (
	iterN = 49000
	iterD = 3072
	iterB = 200
	iterC = 10
)

// u8Train is the shared random uint8 training set of the iteration and
// gather cases (49000×3072 bytes, built once).
var u8Train = sync.OnceValues(func() ([]uint8, []int) {
	x, y, _ := u8Set()
	return x, y
})

// u8Set is the shared random training set: images, labels and the labels
// as bytes (for a cifar.Split).
func u8Set() ([]uint8, []int, []uint8) {
	u8Once.Do(func() { u8X, u8Y, u8Y8 = makeU8Set() })
	return u8X, u8Y, u8Y8
}

var (
	u8Once    sync.Once
	u8X, u8Y8 []uint8
	u8Y       []int
)

func makeU8Set() ([]uint8, []int, []uint8) {
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]uint8, iterN*iterD)
	for i := 0; i < len(x); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(x); j++ {
			x[i+j] = uint8(v >> (8 * j))
		}
	}
	y, y8 := make([]int, iterN), make([]uint8, iterN)
	for i := range y {
		y[i] = r.IntN(iterC)
		y8[i] = uint8(y[i])
	}
	return x, y, y8
}

type netIter[T kernels.Float] struct {
	n, d, b, h, c int
	src           []uint8
	labels        []int
	prep          *cifar.Prepared // src and the mean image, for cifar.Gather
	rng           *rand.Rand
	idx, yb       []int
	X, W1, W2     blas.Matrix[T]
	b1, b2        []T
	Hd, S, dS, dH blas.Matrix[T]
	dW1, dW2      blas.Matrix[T]
	db1, db2      []T
	lr, reg       T
	loss          float64
}

func newNetIter[T kernels.Float](tiny bool, h int) *netIter[T] {
	it := &netIter[T]{n: iterN, d: iterD, b: iterB, h: h, c: iterC, lr: 1e-3, reg: 0.05}
	if tiny {
		it.n, it.d, it.b, it.h, it.c = 50, 7, 5, 3, 4
		r := rand.New(rand.NewPCG(7, 8))
		it.src = make([]uint8, it.n*it.d)
		it.labels = make([]int, it.n)
		for i := range it.src {
			it.src[i] = uint8(r.IntN(256))
		}
		for i := range it.labels {
			it.labels[i] = r.IntN(it.c)
		}
	} else {
		it.src, it.labels = u8Train()
	}
	r := rand.New(rand.NewPCG(9, 10))
	it.rng = r
	mean := make([]float64, it.d)
	for i := range mean {
		mean[i] = float64(T(120 + float64(15*r.Float64())))
	}
	it.prep = &cifar.Prepared{Train: cifar.Split{X: it.src, Y: make([]uint8, it.n), N: it.n, H: 1, W: it.d, C: 1}, Mean: mean}
	it.idx, it.yb = make([]int, it.b), make([]int, it.b)
	it.X = blas.NewMatrix[T](it.b, it.d)
	it.W1 = scaledRandn[T](r, it.d, it.h, 1e-4)
	it.W2 = scaledRandn[T](r, it.h, it.c, 1e-4)
	it.b1, it.b2 = make([]T, it.h), make([]T, it.c)
	it.Hd = blas.NewMatrix[T](it.b, it.h)
	it.S = blas.NewMatrix[T](it.b, it.c)
	it.dS = blas.NewMatrix[T](it.b, it.c)
	it.dH = blas.NewMatrix[T](it.b, it.h)
	it.dW1 = blas.NewMatrix[T](it.d, it.h)
	it.dW2 = blas.NewMatrix[T](it.h, it.c)
	it.db1, it.db2 = make([]T, it.h), make([]T, it.c)
	it.gather()
	it.forward()
	it.backward()
	return it
}

func scaledRandn[T kernels.Float](r *rand.Rand, rows, cols int, std float64) blas.Matrix[T] {
	m := blas.NewMatrix[T](rows, cols)
	for i := range m.Data {
		m.Data[i] = T(std * r.NormFloat64())
	}
	return m
}

// gather: X (B×D) = rows idx of the uint8 set minus the mean image.
func (it *netIter[T]) gather() {
	for i := range it.idx {
		k := it.rng.IntN(it.n)
		it.idx[i], it.yb[i] = k, it.labels[k]
	}
	cifar.Gather(it.prep, &it.prep.Train, it.idx, it.X)
}

// forward: Hd (B×H) = max(0, X·W1 + b1); S (B×C) = Hd·W2 + b2; dS = (P − Y)/B.
func (it *netIter[T]) forward() {
	blas.Gemm(false, false, 1, it.X, it.W1, 0, it.Hd)
	kernels.BiasReLU(it.Hd.Data, it.b, it.h, it.Hd.Stride, it.b1)
	blas.Gemm(false, false, 1, it.Hd, it.W2, 0, it.S)
	kernels.AddBias(it.S.Data, it.b, it.c, it.S.Stride, it.b2)
	it.loss = kernels.SoftmaxCERows(it.dS.Data, it.S.Data, it.b, it.c, it.S.Stride, it.yb, 1/T(it.b))
}

// backward: dW2 (H×C) = Hdᵀ·dS, db2 = colsum(dS), dH (B×H) = dS·W2ᵀ masked,
// dW1 (D×H) = Xᵀ·dH, db1 = colsum(dH). Overwrites the gradients.
func (it *netIter[T]) backward() {
	blas.Gemm(true, false, 1, it.Hd, it.dS, 0, it.dW2)
	kernels.ColSum(it.db2, it.dS.Data, it.b, it.c, it.dS.Stride)
	blas.Gemm(false, true, 1, it.dS, it.W2, 0, it.dH)
	kernels.ReLUBackward(it.dH.Data, it.Hd.Data)
	blas.Gemm(true, false, 1, it.X, it.dH, 0, it.dW1)
	kernels.ColSum(it.db1, it.dH.Data, it.b, it.h, it.dH.Stride)
}

// update: dW += 2·reg·W; W −= lr·dW (biases unregularised).
func (it *netIter[T]) update() {
	kernels.Axpy(2*it.reg, it.W1.Data, it.dW1.Data)
	kernels.Axpy(-it.lr, it.dW1.Data, it.W1.Data)
	kernels.Axpy(2*it.reg, it.W2.Data, it.dW2.Data)
	kernels.Axpy(-it.lr, it.dW2.Data, it.W2.Data)
	kernels.Axpy(-it.lr, it.db1, it.b1)
	kernels.Axpy(-it.lr, it.db2, it.b2)
}

// gemms: the five products of forward and backward.
func (it *netIter[T]) gemms() {
	blas.Gemm(false, false, 1, it.X, it.W1, 0, it.Hd)
	blas.Gemm(false, false, 1, it.Hd, it.W2, 0, it.S)
	blas.Gemm(true, false, 1, it.Hd, it.dS, 0, it.dW2)
	blas.Gemm(false, true, 1, it.dS, it.W2, 0, it.dH)
	blas.Gemm(true, false, 1, it.X, it.dH, 0, it.dW1)
}

func (it *netIter[T]) gemmFLOPs() float64 {
	// In integers: the float64 form (2·b·d·h + …) let the compiler fuse
	// its multiply-adds.
	b, d, h, c := it.b, it.d, it.h, it.c
	return float64(2 * (b*d*h + b*h*c + h*b*c + b*c*h + d*b*h))
}

func iterCasesT[T kernels.Float]() []*Case {
	dt := dtypeName[T]()
	var cs []*Case
	for _, h := range []int{200, 50} {
		h := h
		ref := &netIter[T]{b: iterB, d: iterD, h: h, c: iterC}
		gf := ref.gemmFLOPs()
		for _, th := range threadCounts(runtime.NumCPU()) {
			for _, ph := range []struct {
				name  string
				flops float64
				fn    func(*netIter[T])
				cmp   []string
			}{
				{"gather", 0, (*netIter[T]).gather, nil},
				{"forward", 2 * float64(iterB*iterD*h+iterB*h*iterC), (*netIter[T]).forward, nil},
				{"backward", 2 * float64(iterB*h*iterC*2+iterD*iterB*h), (*netIter[T]).backward, nil},
				{"update", 0, (*netIter[T]).update, nil},
				{"matmuls", gf, (*netIter[T]).gemms, nil},
				{"composed", gf, func(it *netIter[T]) { it.gather(); it.forward(); it.backward(); it.update() }, []string{"matmuls"}},
			} {
				ph := ph
				c := &Case{
					Family: "iteration", Op: "twolayer", DType: dt, Impl: ph.name, Level: CurrentLevel, Threads: th,
					Shape: fmt.Sprintf("B=%d/H=%d", iterB, h), FLOPs: ph.flops, Compare: ph.cmp,
					Setup: func(tiny bool) (Op, error) {
						it := newNetIter[T](tiny, h)
						var isa func() string
						if ph.name == "gather" { // one kernel: say where it runs
							isa = func() string { return kernels.Dispatched("U8ToFloat").String() }
						}
						return Op{Run: func(n int) {
							for i := 0; i < n; i++ {
								ph.fn(it)
							}
						}, ISA: isa}, nil
					},
				}
				if ph.flops > 0 {
					c.Peak = PeakFMA
				}
				if ph.name == "gather" {
					c.Bytes = float64(iterB*iterD) * (1 + sizeOf[T]())
				}
				cs = append(cs, c)
			}
		}
	}
	return cs
}

func init() {
	registerGen(func() []*Case { return append(iterCasesT[float32](), iterCasesT[float64]()...) })
}
