package bench

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nnkern/nnkern/kernels"
)

// The kernels family: every exported kernel of package kernels that the
// models' hot loops call, at L1/L2-resident sizes, on every ISA level the
// machine has (the row's ISA is kernels.ISA() during the run), plus plain
// math.Exp loops as exp's baseline. The speed-up column is against the
// generic level of the same kernel (or against the math.Exp loop for Exp).

func randSlice[T kernels.Float](r *rand.Rand, n int, lo, hi float64) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(lo + float64((hi-lo)*r.Float64()))
	}
	return s
}

// kspec describes one kernel benchmark for element type T.
type kspec[T kernels.Float] struct {
	op    string
	shape func(tiny bool) (string, int, int) // shape label, rows (or n), cols
	flops func(rows, cols int) float64       // per op
	bytes func(rows, cols int) float64       // per op
	peak  PeakKind
	// run returns the operation on fresh data.
	run func(r *rand.Rand, rows, cols int) func()
}

func vec(n int) func(bool) (string, int, int) {
	return func(tiny bool) (string, int, int) {
		m := n
		if tiny {
			m = 7
		}
		return fmt.Sprintf("n=%d", m), m, 1
	}
}

// isVec reports whether a kernel's size is a vector length (n=...).
func isVec[T kernels.Float](sp kspec[T]) bool {
	label, _, cols := sp.shape(false)
	return cols == 1 && len(label) > 2 && label[:2] == "n="
}

func mat(rows, cols int) func(bool) (string, int, int) {
	return func(tiny bool) (string, int, int) {
		r, c := rows, cols
		if tiny {
			r, c = 3, 5
		}
		return fmt.Sprintf("%dx%d", r, c), r, c
	}
}

func kernelSpecs[T kernels.Float]() []kspec[T] {
	sz := sizeOf[T]()
	nb := func(k float64) func(int, int) float64 { return func(r, c int) float64 { return k * sz * float64(r*c) } }
	nf := func(k float64) func(int, int) float64 { return func(r, c int) float64 { return k * float64(r*c) } }
	var sinkT T
	var sinkI int
	var sinkF float64
	_ = sinkT
	labels := func(r *rand.Rand, rows, cols int) []int {
		y := make([]int, rows)
		for i := range y {
			y[i] = r.IntN(cols)
		}
		return y
	}
	return []kspec[T]{
		{op: "Dot", shape: vec(3072), flops: nf(2), bytes: nb(2), peak: PeakFMA,
			run: func(r *rand.Rand, n, _ int) func() {
				x, y := randSlice[T](r, n, -1, 1), randSlice[T](r, n, -1, 1)
				return func() { sinkT += kernels.Dot(x, y) }
			}},
		{op: "Axpy", shape: vec(3072), flops: nf(2), bytes: nb(3), peak: PeakFMA,
			run: func(r *rand.Rand, n, _ int) func() {
				x, y := randSlice[T](r, n, -1, 1), randSlice[T](r, n, -1, 1)
				a := T(1e-3) // keeps y bounded over millions of calls
				return func() { kernels.Axpy(a, x, y); a = -a }
			}},
		{op: "Scale", shape: vec(3072), flops: nf(1), bytes: nb(2),
			run: func(r *rand.Rand, n, _ int) func() {
				x := randSlice[T](r, n, -1, 1)
				a := T(0.5)
				return func() { kernels.Scale(a, x); a = 1 / a }
			}},
		{op: "AddTo", shape: vec(3072), flops: nf(1), bytes: nb(3),
			run: func(r *rand.Rand, n, _ int) func() {
				d, x := randSlice[T](r, n, -1, 1), randSlice[T](r, n, -1, 1)
				return func() { kernels.AddTo(d, x); kernels.SubFrom(d, x) }
			}},
		{op: "Sum", shape: vec(3072), flops: nf(1), bytes: nb(1),
			run: func(r *rand.Rand, n, _ int) func() {
				x := randSlice[T](r, n, -1, 1)
				return func() { sinkT += kernels.Sum(x) }
			}},
		{op: "SumSq", shape: vec(3072), flops: nf(2), bytes: nb(1), peak: PeakFMA,
			run: func(r *rand.Rand, n, _ int) func() {
				x := randSlice[T](r, n, -1, 1)
				return func() { sinkT += kernels.SumSq(x) }
			}},
		{op: "Max", shape: vec(3072), bytes: nb(1),
			run: func(r *rand.Rand, n, _ int) func() {
				x := randSlice[T](r, n, -1, 1)
				return func() { sinkT += kernels.Max(x) }
			}},
		{op: "ArgMax", shape: vec(3072), bytes: nb(1),
			run: func(r *rand.Rand, n, _ int) func() {
				x := randSlice[T](r, n, -1, 1)
				return func() { sinkI += kernels.ArgMax(x) }
			}},
		{op: "ReLU", shape: vec(3072), bytes: nb(2),
			run: func(r *rand.Rand, n, _ int) func() {
				x, d := randSlice[T](r, n, -1, 1), make([]T, n)
				return func() { kernels.ReLU(d, x) }
			}},
		{op: "BiasReLU", shape: mat(200, 200), flops: nf(2), bytes: nb(2),
			run: func(r *rand.Rand, rows, cols int) func() {
				m, b := randSlice[T](r, rows*cols, -1, 1), randSlice[T](r, cols, -0.01, 0.01)
				return func() { kernels.BiasReLU(m, rows, cols, cols, b) }
			}},
		{op: "ReLUBackward", shape: mat(200, 200), bytes: nb(3),
			run: func(r *rand.Rand, rows, cols int) func() {
				dh, h := randSlice[T](r, rows*cols, -1, 1), randSlice[T](r, rows*cols, -1, 1)
				return func() { kernels.ReLUBackward(dh, h) }
			}},
		{op: "ColSum", shape: mat(200, 200), flops: nf(1), bytes: nb(1),
			run: func(r *rand.Rand, rows, cols int) func() {
				m, d := randSlice[T](r, rows*cols, -1, 1), make([]T, cols)
				return func() { kernels.ColSum(d, m, rows, cols, cols) }
			}},
		{op: "U8ToFloat", shape: vec(3072), bytes: func(r, c int) float64 { return float64(r*c) * (1 + 2*sz) },
			run: func(r *rand.Rand, n, _ int) func() {
				src := make([]uint8, n)
				for i := range src {
					src[i] = uint8(r.IntN(256))
				}
				mean, d := randSlice[T](r, n, 100, 150), make([]T, n)
				return func() { kernels.U8ToFloat(d, src, mean) }
			}},
		{op: "Exp", shape: vec(4096), bytes: nb(2),
			run: func(r *rand.Rand, n, _ int) func() {
				x, d := randSlice[T](r, n, -80, 0), make([]T, n)
				return func() { kernels.Exp(d, x) }
			}},
		{op: "SoftmaxRows", shape: mat(200, 10), bytes: nb(2),
			run: func(r *rand.Rand, rows, cols int) func() {
				s, p := randSlice[T](r, rows*cols, -5, 5), make([]T, rows*cols)
				return func() { kernels.SoftmaxRows(p, s, rows, cols, cols) }
			}},
		{op: "SoftmaxCERows", shape: mat(200, 10), bytes: nb(2),
			run: func(r *rand.Rand, rows, cols int) func() {
				s, d := randSlice[T](r, rows*cols, -5, 5), make([]T, rows*cols)
				y := labels(r, rows, cols)
				return func() { sinkF += kernels.SoftmaxCERows(d, s, rows, cols, cols, y, T(1)/T(rows)) }
			}},
		{op: "HingeRows", shape: mat(200, 10), bytes: nb(2),
			run: func(r *rand.Rand, rows, cols int) func() {
				s, d := randSlice[T](r, rows*cols, -5, 5), make([]T, rows*cols)
				y := labels(r, rows, cols)
				return func() { sinkF += kernels.HingeRows(d, s, rows, cols, cols, y, T(1)/T(rows)) }
			}},
	}
}

// mathExp is exp's baseline: the loop a Go programmer writes without
// nnkern (float32(math.Exp(float64(x))) for f32).
func mathExp[T kernels.Float](dst, x []T) {
	for i, v := range x {
		dst[i] = T(math.Exp(float64(v)))
	}
}

func kernelCasesT[T kernels.Float](length int) []*Case {
	dt := dtypeName[T]()
	var cs []*Case
	for _, sp := range kernelSpecs[T]() {
		sp := sp
		if length > 0 {
			if !isVec(sp) {
				continue
			}
			sp.shape = vec(length)
		}
		label, rows, cols := sp.shape(false)
		mk := func(impl string, level kernels.Level, compare []string, run func(r *rand.Rand, rows, cols int) func()) *Case {
			// The row's ISA is the level the kernel really dispatches to
			// (a kernel without assembly at the level runs generic).
			isa := func() string { return kernels.Dispatched(sp.op).String() }
			if impl != "nnkern" {
				isa = nil
			}
			return &Case{
				Family: "kernels", Op: sp.op, DType: dt, Impl: impl, Level: level, Threads: 1, Shape: label,
				FLOPs: fnOr(sp.flops, rows, cols), Bytes: fnOr(sp.bytes, rows, cols), Peak: sp.peak, Compare: compare,
				Setup: func(tiny bool) (Op, error) {
					_, rows, cols := sp.shape(tiny)
					f := run(rand.New(rand.NewPCG(1, 2)), rows, cols)
					return Op{Run: func(n int) {
						for i := 0; i < n; i++ {
							f()
						}
					}, ISA: isa}, nil
				},
			}
		}
		for _, l := range kernels.Levels() {
			var cmp []string
			if sp.op == "Exp" {
				cmp = append(cmp, "math")
			}
			if l != kernels.Generic {
				cmp = append(cmp, "nnkern/generic")
			}
			cs = append(cs, mk("nnkern", l, cmp, sp.run))
		}
		if sp.op == "Exp" {
			c := mk("math", kernels.Generic, nil, func(r *rand.Rand, n, _ int) func() {
				x, d := randSlice[T](r, n, -80, 0), make([]T, n)
				return func() { mathExp(d, x) }
			})
			cs = append(cs, c)
		}
	}
	return cs
}

func fnOr(f func(int, int) float64, r, c int) float64 {
	if f == nil {
		return 0
	}
	return f(r, c)
}

func init() {
	registerGen(func() []*Case { return append(kernelCasesT[float32](0), kernelCasesT[float64](0)...) })
}

// VectorKernelCases returns the kernels cases of the level-1 kernels (those
// whose size is a vector length: Dot, Axpy, Scale, Sum, Exp, ...) at
// length n, on every ISA level, f32 and f64, named like the built-in ones
// (kernels/Dot/f32/nnkern/isa=L/threads=1/n=N). For Options.Cases.
func VectorKernelCases(n int) []*Case {
	return append(kernelCasesT[float32](n), kernelCasesT[float64](n)...)
}
