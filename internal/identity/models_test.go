package identity

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/twolayer"
)

// lcase is a linear classifier's loss call: W is D×C, X is N×D.
type lcase struct {
	n, d, c int
	reg     float64
	strided bool
}

func (c lcase) String() string {
	s := fmt.Sprintf("N=%d/D=%d/C=%d/reg=%g", c.n, c.d, c.c, c.reg)
	if c.strided {
		s += "/strided"
	}
	return s
}

// lossCases: row counts around the fused loss's 32-row blocks and the
// thresholds of its chunk count (1 chunk below 32 rows, 2 up to 128, 4
// above), widths around the SIMD widths and MulAddNT's lane counts (16
// float32, 8 float64), class counts around the SIMD widths and MulAddNT's
// register blocks, the notebooks' 10.
func lossCases() []lcase {
	nd := [][2]int{{1, 1}, {2, 9}, {7, 33}, {31, 64}, {33, 100}, {64, 3}, {65, 257}, {127, 17}, {150, 47}, {200, 129}, {300, 65}, {513, 20}, {200, 1025}}
	var cs []lcase
	for i, p := range nd {
		for j, c := range []int{1, 2, 3, 7, 8, 10, 15, 16, 17, 25} {
			reg := []float64{0, 0.5, 2.5e4, 5e-6}[(i+j)%4]
			cs = append(cs, lcase{p[0], p[1], c, reg, (i+j)%3 == 0})
		}
	}
	return cs
}

// classData returns X (N×D, values like mean-subtracted pixels: |x| < 128,
// a strided view in some cases), labels in [0, C) and W (D×C, |w| < 2^-6).
func classData[T kernels.Float](g *gen, c lcase) (W, X blas.Matrix[T], y []int) {
	pad := 0
	if c.strided {
		pad = 3
	}
	X = view[T](g, c.n, c.d, pad, 0, 1, -6, 6)
	W = blas.NewMatrix[T](c.d, c.c)
	fill(g, W.Data, -16, -7, 4)
	return W, X, ints(g, c.n, c.c)
}

type lossFunc[T kernels.Float] func(W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T])

func lossComponent[T kernels.Float](routine string, f lossFunc[T]) Component {
	name := "softmax/" + routine + "/" + tname[T]()
	return Component{Name: name, run: func(r *Recorder) {
		for _, c := range lossCases() {
			r.Case(c.String(), func() {
				W, X, y := classData[T](newGen(name+"/"+c.String()), c)
				loss, dW := f(W, X, y, c.reg)
				r.F64("loss", loss)
				putMat(r, "dW", dW)
			})
		}
	}}
}

// ncase is a two-layer net's loss call: X is N×D, W1 D×H, W2 H×C.
type ncase struct{ n, d, h, c int }

func (c ncase) String() string { return fmt.Sprintf("N=%d/D=%d/H=%d/C=%d", c.n, c.d, c.h, c.c) }

func netCases() []ncase {
	return []ncase{
		{1, 1, 1, 1}, {5, 4, 10, 3}, {7, 33, 17, 10}, {2, 9, 65, 2}, {33, 17, 8, 16}, {64, 65, 50, 10},
		{65, 100, 31, 7}, {200, 129, 33, 10}, {127, 64, 100, 17},
		{200, 301, 50, 10}, // 2·N·D·H = 6 MFLOP (> 4 Mi): the forward and dW1 Gemms run in parallel
	}
}

// netData returns a net with random weights and biases, X and labels.
func netData[T kernels.Float](g *gen, c ncase) (*twolayer.Net[T], blas.Matrix[T], []int) {
	net := &twolayer.Net[T]{
		W1: blas.NewMatrix[T](c.d, c.h), B1: make([]T, c.h),
		W2: blas.NewMatrix[T](c.h, c.c), B2: make([]T, c.c),
	}
	fill(g, net.W1.Data, -12, -5, 4)
	fill(g, net.B1, -8, -3, 4)
	fill(g, net.W2.Data, -10, -3, 4)
	fill(g, net.B2, -8, -3, 4)
	X := view[T](g, c.n, c.d, c.n%3, 0, 0, -6, 3)
	return net, X, ints(g, c.n, c.c)
}

func netLossComponent[T kernels.Float](routine string, f func(n *twolayer.Net[T], X blas.Matrix[T], y []int, reg float64) (float64, twolayer.Grads[T])) Component {
	name := "twolayer/" + routine + "/" + tname[T]()
	return Component{Name: name, run: func(r *Recorder) {
		for i, c := range netCases() {
			for _, reg := range []float64{0, []float64{0.05, 5e-6, 0.25}[i%3]} {
				label := fmt.Sprintf("%v/reg=%g", c, reg)
				r.Case(label, func() {
					net, X, y := netData[T](newGen(name+"/"+c.String()), c)
					loss, gr := f(net, X, y, reg)
					r.F64("loss", loss)
					putMat(r, "dW1", gr.W1)
					put(r, "dB1", gr.B1)
					putMat(r, "dW2", gr.W2)
					put(r, "dB2", gr.B2)
				})
			}
		}
	}}
}

// trainData returns N×D training data (a bias column of ones last, like
// the notebooks' preprocessing) and labels in [0, C) that a linear model
// can partly learn: the label is the index of the largest of the first C
// features, with some labels noise.
func trainData[T kernels.Float](g *gen, n, d, c int) (blas.Matrix[T], []int) {
	X := blas.NewMatrix[T](n, d)
	fill(g, X.Data, -6, 1, 4)
	y := make([]int, n)
	for i := range y {
		row := X.Row(i)
		row[d-1] = 1
		y[i] = argmax(row[:c]) // plain Go: the inputs never depend on the level
		if g.intn(5) == 0 {
			y[i] = g.intn(c)
		}
	}
	return X, y
}

// rngState records the random stream's position after training.
func rngState(r *Recorder, rng *nprand.RandomState) {
	b, err := rng.MarshalBinary()
	if err != nil {
		r.Err("rng", err)
		return
	}
	r.Text("rng state", string(b))
}

func modelComponents[T kernels.Float]() []Component {
	ts := tname[T]()
	predict := "softmax/Predict/" + ts
	cs := []Component{
		lossComponent[T]("Loss", softmax.Loss[T]),
		lossComponent[T]("SVMLoss", softmax.SVMLoss[T]),
		lossComponent[T]("LossVectorized", softmax.LossVectorized[T]),
		lossComponent[T]("SVMLossVectorized", softmax.SVMLossVectorized[T]),
		{Name: predict, run: func(r *Recorder) {
			for _, c := range lossCases() {
				r.Case(c.String(), func() {
					W, X, _ := classData[T](newGen(predict+"/"+c.String()), c)
					clf := &softmax.LinearClassifier[T]{W: W}
					r.Ints("pred", clf.Predict(X)...)
				})
			}
		}},
		netLossComponent[T]("Loss", (*twolayer.Net[T]).Loss),
		netLossComponent[T]("LossVectorized", (*twolayer.Net[T]).LossVectorized),
	}
	for _, kind := range []softmax.Kind{softmax.KindSoftmax, softmax.KindSVM} {
		name := "softmax/Train/" + kind.String() + "/" + ts
		cs = append(cs, Component{Name: name, run: func(r *Recorder) {
			// 60 iterations of batches of 200 (4 row chunks of the fused
			// loss) on 500×97 data, 10 classes.
			for _, lr := range []float64{1e-2, 1e-1} {
				label := fmt.Sprintf("N=500/D=97/C=10/B=200/lr=%g/60it", lr)
				r.Case(label, func() {
					X, y := trainData[T](newGen(name), 500, 97, 10)
					clf := &softmax.LinearClassifier[T]{Kind: kind}
					rng := nprand.New(7)
					hist, err := clf.Train(X, y, softmax.TrainConfig{LearningRate: lr, Reg: 1e-3, NumIters: 60, BatchSize: 200}, rng)
					r.Err("err", err)
					r.F64("loss history", hist...)
					putMat(r, "W", clf.W)
					rngState(r, rng)
				})
			}
		}})
	}
	train2 := "twolayer/Train/" + ts
	cs = append(cs, Component{Name: train2, run: func(r *Recorder) {
		// 60 iterations of batches of 200 on 1000×257 data (X·W1 and
		// Xᵀ·dH are 5.1 MFLOP each, above blas's 4 Mi FLOP threshold: they
		// run in parallel), hidden 50, 10 classes,
		// an epoch every 5 iterations (learning-rate decay, accuracies on
		// the batch and on a validation set).
		label := "N=1000/D=257/H=50/C=10/B=200/60it"
		r.Case(label, func() {
			g := newGen(train2)
			X, y := trainData[T](g, 1000, 257, 10)
			Xv, yv := trainData[T](g, 300, 257, 10)
			rng := nprand.New(3)
			net := twolayer.New[T](257, 50, 10, 0.05, rng)
			st, err := net.Train(X, y, Xv, yv, twolayer.TrainConfig{
				LearningRate: 0.3, LearningRateDecay: 0.95, Reg: 1e-3, NumIters: 60, BatchSize: 200,
			}, rng)
			r.Err("err", err)
			r.F64("loss history", st.LossHistory...)
			r.F64("train accuracy", st.TrainAccHistory...)
			r.F64("val accuracy", st.ValAccHistory...)
			putMat(r, "W1", net.W1)
			put(r, "B1", net.B1)
			putMat(r, "W2", net.W2)
			put(r, "B2", net.B2)
			rngState(r, rng)
		})
	}})
	return cs
}

// nprandComponent records a few draws of every stream the trainers and
// the CLI use (the gaussian goes through nprand's port of glibc's log,
// which uses FMA), for several seeds.
func nprandComponent() Component {
	return Component{Name: "nprand/streams", run: func(r *Recorder) {
		for _, seed := range []uint32{0, 1, 42, 1 << 31, 1<<32 - 1} {
			r.Case(fmt.Sprintf("seed=%d", seed), func() {
				rng := nprand.New(seed)
				var u []int
				for range 5 {
					u = append(u, int(rng.Uint32()))
				}
				r.Ints("uint32", u...)
				var f []float64
				for range 5 {
					f = append(f, rng.RandomSample())
				}
				r.F64("random_sample", f...)
				f = f[:0]
				for range 9 {
					f = append(f, rng.StandardNormal())
				}
				r.F64("standard_normal", f...)
				r.F64("randn", rng.Randn(2000)...)
				r.Ints("randint", rng.Randint(0, 50000), rng.Randint(-3, 1<<40), rng.Randint(5, 6))
				r.Ints("choice", rng.Choice(50000, 200, true)...)
				r.Ints("choice no replace", rng.Choice(20, 5, false)...)
				r.Ints("permutation", rng.Permutation(10)...)
				r.F64("uniform", rng.Uniform(-1, 3), rng.Uniform(0, 1e-3))
				rngState(r, rng)
			})
		}
	}}
}

// argmax is the index of the first largest element (inputs are finite).
func argmax[T kernels.Float](x []T) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
