package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/cifar"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
	"github.com/nnkern/nnkern/softmax"
	"github.com/nnkern/nnkern/train"
	"github.com/nnkern/nnkern/twolayer"
)

// The model families, on random data of CIFAR-10's shapes (a 49000-image
// uint8 training split of 32×32×3, 1000 validation images, the mean image
// subtracted while gathering, as package cifar does for the real data):
//
//	data/gather        200 random training rows → float (cifar.Gather, with
//	                   the bias column: 200×3073)
//	loss/softmax, loss/svm
//	                   loss and gradient on N=500 dev rows, D=3073, C=10:
//	                   naive, vectorized (the reference pair), fused
//	                   (softmax.Loss / SVMLoss, the fast path) and
//	                   workspace (the same on a LossWorkspace, dW reused)
//	iteration/twolayer net: one SGD iteration as Net.Train runs it (the
//	                   model of Net.TrainModel: Loss gathering the batch
//	                   from a cifar.Source, then the SGD step fused into
//	                   the weight-gradient GEMMs), next to the composed
//	                   breakdown of cases_iter.go; net-vectorized: the
//	                   reference Net.LossVectorized, then W −= lr·dW
//	train/softmax      LinearClassifier training, 1500 iterations, batch 200,
//	                   lr 1e-7, reg 2.5e4 (the notebook's settings) — slow
//	train/twolayer     Net training with the per-epoch validation pass:
//	                   H=200, 2000 it, lr 1e-3, decay 0.95, reg 0.05 (tuned)
//	                   and H=50, 1000 it, lr 1e-4, reg 0.25 (default) — slow
//
// The training runs take seconds each: they are Slow (--slow) and timed
// without a warm-up run.

// synthData builds a Prepared over random uint8 images (bias column as
// asked). tiny: 60 training and 20 validation images of 2×2×3.
func synthData(tiny, bias bool) *cifar.Prepared {
	var train cifar.Split
	if tiny {
		r := rand.New(rand.NewPCG(11, 12))
		train = cifar.Split{X: make([]uint8, 60*12), Y: make([]uint8, 60), N: 60, H: 2, W: 2, C: 3}
		for i := range train.X {
			train.X[i] = uint8(r.IntN(256))
		}
		for i := range train.Y {
			train.Y[i] = uint8(r.IntN(iterC))
		}
	} else {
		x, _, y8 := u8Set()
		train = cifar.Split{X: x, Y: y8, N: iterN, H: 32, W: 32, C: 3}
	}
	nv := 1000
	if tiny {
		nv = 20
	}
	val := train.Slice(0, nv) // shares the bytes: fine for timing
	return &cifar.Prepared{Train: train, Val: val, Mean: cifar.MeanImage(&train), Bias: bias,
		ClassNames: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
}

var synthCache struct {
	sync.Mutex
	m map[bool]*cifar.Prepared
}

// The data set of the data, loss and train families (SetData); nil: random
// data of CIFAR-10's shapes.
var userData struct {
	sync.Mutex
	path string
	ds   *cifar.Dataset
	prep map[bool]*cifar.Prepared
	err  error
}

// SetData makes the data, loss and train cases run on ds (read from path;
// the path is recorded in reports) with the notebooks' split (49000/1000
// training/validation rows, fewer for a smaller set) instead of random
// data. The iteration breakdown stays on random data so that its phases
// compare with each other. SetData must be called before the registry is
// first read (Cases, Select, Run); it returns an error otherwise.
func SetData(path string, ds *cifar.Dataset) error {
	regMu.Lock()
	built := regBuilt
	regMu.Unlock()
	if built {
		return fmt.Errorf("bench.SetData: called after the cases were built")
	}
	if err := ds.Check(); err != nil {
		return fmt.Errorf("bench.SetData: %s: %w", path, err)
	}
	if ds.Train.N < 2 {
		return fmt.Errorf("bench.SetData: %s: %d training images, need at least 2", path, ds.Train.N)
	}
	userData.Lock()
	defer userData.Unlock()
	userData.path, userData.ds, userData.prep = path, ds, map[bool]*cifar.Prepared{}
	return nil
}

// dataName describes the data of the model cases for the reports.
func dataName() string {
	userData.Lock()
	defer userData.Unlock()
	if userData.ds == nil {
		return "random uint8 images of CIFAR-10's shapes (49000 training, 1000 validation)"
	}
	return userData.path
}

// dataDims is (D, C, N) of the model cases' data: image values, classes,
// training rows.
func dataDims() (d, c, n int) {
	userData.Lock()
	defer userData.Unlock()
	if userData.ds == nil {
		return iterD, iterC, iterN
	}
	cfg := dataConfig(userData.ds)
	c = len(userData.ds.ClassNames)
	if c == 0 {
		c = iterC
	}
	return userData.ds.Train.Dim(), c, cfg.NumTraining
}

// dataConfig is the notebooks' split, scaled down for a smaller set.
func dataConfig(ds *cifar.Dataset) cifar.PrepareConfig {
	cfg := cifar.DefaultPrepareConfig()
	if ds.Train.N < cfg.NumTraining+cfg.NumValidation {
		cfg.NumValidation = max(1, ds.Train.N/50)
		cfg.NumTraining = ds.Train.N - cfg.NumValidation
	}
	cfg.NumTest = min(cfg.NumTest, ds.Test.N)
	cfg.NumDev = min(cfg.NumDev, cfg.NumTraining)
	return cfg
}

// modelData returns the user's data set prepared (SetData) or else the
// synthetic one.
func modelData(tiny, bias bool) *cifar.Prepared {
	userData.Lock()
	if userData.ds != nil {
		defer userData.Unlock()
		if p, ok := userData.prep[bias]; ok {
			return p
		}
		cfg := dataConfig(userData.ds)
		cfg.Bias = bias
		p, err := cifar.Prepare(userData.ds, cfg)
		if err != nil {
			panic(fmt.Sprintf("bench: preparing %s: %v", userData.path, err))
		}
		userData.prep[bias] = p
		return p
	}
	userData.Unlock()
	return prepared(tiny, bias)
}

// prepared returns the shared full-size synthetic data (or a fresh tiny one).
func prepared(tiny, bias bool) *cifar.Prepared {
	if tiny {
		return synthData(true, bias)
	}
	synthCache.Lock()
	defer synthCache.Unlock()
	if synthCache.m == nil {
		synthCache.m = map[bool]*cifar.Prepared{}
	}
	if p, ok := synthCache.m[bias]; ok {
		return p
	}
	p := synthData(false, bias)
	synthCache.m[bias] = p
	return p
}

// devSet is N rows of the training split, prepared, with labels (the
// notebooks' dev set).
func devSet[T kernels.Float](p *cifar.Prepared, n int) (blas.Matrix[T], []int) {
	r := nprand.New(1)
	idx := r.Choice(p.Train.N, n, false)
	X := blas.NewMatrix[T](n, p.Dim())
	cifar.Gather(p, &p.Train, idx, X)
	all := cifar.Labels(&p.Train)
	y := make([]int, n)
	for i, k := range idx {
		y[i] = all[k]
	}
	return X, y
}

func randnMatrix[T kernels.Float](rows, cols int, std float64, seed uint32) blas.Matrix[T] {
	r := nprand.New(seed)
	m := blas.NewMatrix[T](rows, cols)
	for i := range m.Data {
		m.Data[i] = T(std * r.StandardNormal())
	}
	return m
}

type lossFunc[T kernels.Float] func(W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T])

// lossImpls lists the loss implementations of package softmax: name,
// softmax loss, SVM loss, threaded.
func lossImpls[T kernels.Float]() []struct {
	name     string
	soft     lossFunc[T]
	svm      lossFunc[T]
	threaded bool
	compare  []string
} {
	return []struct {
		name     string
		soft     lossFunc[T]
		svm      lossFunc[T]
		threaded bool
		compare  []string
	}{
		{"naive", softmax.LossNaive[T], softmax.SVMLossNaive[T], false, nil},
		{"vectorized", softmax.LossVectorized[T], softmax.SVMLossVectorized[T], true, []string{"naive"}},
		{"fused", softmax.Loss[T], softmax.SVMLoss[T], true, []string{"naive", "vectorized"}},
		// The same fused loss on a LossWorkspace and a dW kept between
		// calls, as the trainers and a loop that evaluates the loss
		// repeatedly run it: Loss returns a new 3073×10 dW every call,
		// and in a process with a large heap (the benchmark's 150 MB
		// training set) that is fresh memory each time, whose page
		// faults cost more than the loss itself on a virtual machine.
		{"workspace", nil, nil, true, []string{"naive", "vectorized", "fused"}},
	}
}

// workspaceLoss returns the softmax or SVM loss on one LossWorkspace and
// one dW for a D×C weight matrix (lossImpls' "workspace").
func workspaceLoss[T kernels.Float](svm bool, d, c int) lossFunc[T] {
	ws := softmax.NewLossWorkspace[T]()
	dW := blas.NewMatrix[T](d, c)
	return func(W, X blas.Matrix[T], y []int, reg float64) (float64, blas.Matrix[T]) {
		if svm {
			return ws.SVM(dW, W, X, y, reg), dW
		}
		return ws.Softmax(dW, W, X, y, reg), dW
	}
}

const (
	lossN   = 500
	lossReg = 5e-6
)

func modelCasesT[T kernels.Float]() []*Case {
	dt := dtypeName[T]()
	var cs []*Case
	all := threadCounts(runtime.NumCPU())
	dd, nc, _ := dataDims()

	// data/gather (on all cores it splits the rows over cifar's pool)
	for _, th := range all {
		cs = append(cs, &Case{
			Family: "data", Op: "gather", DType: dt, Impl: "cifar", Level: CurrentLevel, Threads: th,
			Shape: fmt.Sprintf("%dx%d", iterB, dd+1), Bytes: float64(iterB*dd) * (1 + sizeOf[T]()),
			Setup: func(tiny bool) (Op, error) {
				p := modelData(tiny, true)
				b := iterB
				if tiny {
					b = 5
				}
				X := blas.NewMatrix[T](b, p.Dim())
				idx := make([]int, b)
				r := rand.New(rand.NewPCG(13, 14))
				return Op{Run: func(n int) {
					for i := 0; i < n; i++ {
						for j := range idx {
							idx[j] = r.IntN(p.Train.N)
						}
						cifar.Gather(p, &p.Train, idx, X)
					}
				}, ISA: func() string { return kernels.Dispatched("U8ToFloat").String() }}, nil
			},
		})
	}

	// loss/softmax, loss/svm
	for _, kind := range []string{"softmax", "svm"} {
		kind := kind
		for _, th := range all {
			for _, im := range lossImpls[T]() {
				im := im
				if th > 1 && !im.threaded {
					continue
				}
				fn := im.soft
				if kind == "svm" {
					fn = im.svm
				}
				var cmp []string
				for _, v := range im.compare {
					if v != "naive" || th == 1 { // naive runs single-threaded only
						cmp = append(cmp, v)
					}
				}
				cs = append(cs, &Case{
					Family: "loss", Op: kind, DType: dt, Impl: im.name, Level: CurrentLevel, Threads: th,
					Shape: fmt.Sprintf("%dx%dx%d", lossN, dd+1, nc),
					// scores X·W and gradient Xᵀ·dS: 2·2·N·D·C
					FLOPs: 4 * float64(lossN*(dd+1)*nc), Peak: PeakFMA, Compare: cmp,
					Setup: func(tiny bool) (Op, error) {
						p := modelData(tiny, true)
						n := min(lossN, p.Train.N)
						if tiny {
							n = 7
						}
						X, y := devSet[T](p, n)
						W := randnMatrix[T](p.Dim(), nc, 1e-4, 2)
						fn := fn
						if fn == nil {
							fn = workspaceLoss[T](kind == "svm", W.Rows, W.Cols)
						}
						var sink float64
						return Op{Run: func(reps int) {
							for i := 0; i < reps; i++ {
								l, _ := fn(W, X, y, lossReg)
								sink += l
							}
						}}, nil
					},
				})
			}
		}
	}

	// iteration/twolayer/net: one SGD iteration through the package.
	for _, h := range []int{200, 50} {
		h := h
		for _, th := range all {
			for _, impl := range []string{"net", "net-vectorized"} {
				impl := impl
				cmp := []string{"matmuls", "composed"}
				if impl == "net" {
					cmp = append(cmp, "net-vectorized")
				}
				cs = append(cs, &Case{
					Family: "iteration", Op: "twolayer", DType: dt, Impl: impl, Level: CurrentLevel, Threads: th,
					Shape: fmt.Sprintf("B=%d/H=%d", iterB, h), Compare: cmp,
					FLOPs: (&netIter[T]{b: iterB, d: iterD, h: h, c: iterC}).gemmFLOPs(), Peak: PeakFMA,
					Setup: func(tiny bool) (Op, error) {
						p := prepared(tiny, false) // random data: the breakdown's shapes
						b, hh := iterB, h
						if tiny {
							b, hh = 5, 3
						}
						rng := nprand.New(3)
						net := twolayer.New[T](p.Dim(), hh, iterC, 1e-4, rng)
						g := &twolayer.Grads[T]{W1: blas.NewMatrix[T](p.Dim(), hh), B1: make([]T, hh),
							W2: blas.NewMatrix[T](hh, iterC), B2: make([]T, iterC)}
						X := blas.NewMatrix[T](b, p.Dim())
						labels := cifar.Labels(&p.Train)
						idx, y := make([]int, b), make([]int, b)
						lr, reg := T(1e-3), 0.05
						src := cifar.NewSource[T](p, &p.Train)
						model := net.TrainModel()
						step, ok := model.(train.SGDStepper)
						if impl == "net" && !ok {
							return Op{}, fmt.Errorf("twolayer's train model has no fused SGD step")
						}
						return Op{Run: func(reps int) {
							for i := 0; i < reps; i++ {
								for j := range idx {
									idx[j] = rng.Randint(0, p.Train.N)
									y[j] = labels[idx[j]]
								}
								if impl == "net" {
									model.Loss(src, idx, y, reg)
									step.SGDStep(float64(lr))
									continue
								}
								cifar.Gather(p, &p.Train, idx, X)
								_, *g = net.LossVectorized(X, y, reg)
								kernels.Axpy(-lr, g.W1.Data, net.W1.Data)
								kernels.Axpy(-lr, g.B1, net.B1)
								kernels.Axpy(-lr, g.W2.Data, net.W2.Data)
								kernels.Axpy(-lr, g.B2, net.B2)
							}
						}}, nil
					},
				})
			}
		}
	}

	// train/softmax, train/twolayer
	for _, th := range all {
		th := th
		cs = append(cs, &Case{
			Family: "train", Op: "softmax", DType: dt, Impl: "nnkern", Level: CurrentLevel, Threads: th,
			Shape: "1500it", Slow: true, NoWarmup: true, MinSamples: 1,
			Setup: func(tiny bool) (Op, error) {
				p := modelData(tiny, true)
				cfg := softmax.TrainConfig{LearningRate: 1e-7, Reg: 2.5e4, NumIters: 1500, BatchSize: 200}
				if tiny {
					cfg.NumIters, cfg.BatchSize = 3, 4
				}
				src, y := cifar.NewSource[T](p, &p.Train), cifar.Labels(&p.Train)
				return Op{Run: func(reps int) {
					for i := 0; i < reps; i++ {
						c := softmax.NewSoftmax[T]()
						if _, err := c.TrainSource(src, y, cfg, nprand.New(0)); err != nil {
							panic(err)
						}
					}
				}}, nil
			},
		})
		for _, tc := range []struct {
			h, iters     int
			lr, reg, dec float64
		}{{200, 2000, 1e-3, 0.05, 0.95}, {50, 1000, 1e-4, 0.25, 0.95}} {
			tc := tc
			cs = append(cs, &Case{
				Family: "train", Op: "twolayer", DType: dt, Impl: "nnkern", Level: CurrentLevel, Threads: th,
				Shape: fmt.Sprintf("h%d-%dit", tc.h, tc.iters), Slow: true, NoWarmup: true, MinSamples: 1,
				Setup: func(tiny bool) (Op, error) {
					p := modelData(tiny, false)
					cfg := twolayer.TrainConfig{LearningRate: tc.lr, LearningRateDecay: tc.dec, Reg: tc.reg,
						NumIters: tc.iters, BatchSize: 200}
					h := tc.h
					if tiny {
						cfg.NumIters, cfg.BatchSize, h = 3, 4, 3
					}
					src, y := cifar.NewSource[T](p, &p.Train), cifar.Labels(&p.Train)
					val, yv := cifar.NewSource[T](p, &p.Val), cifar.Labels(&p.Val)
					return Op{Run: func(reps int) {
						for i := 0; i < reps; i++ {
							rng := nprand.New(0)
							net := twolayer.New[T](p.Dim(), h, nc, 1e-4, rng)
							if _, err := net.TrainSource(src, y, val, yv, cfg, rng); err != nil {
								panic(err)
							}
						}
					}}, nil
				},
			})
		}
	}
	return cs
}

func init() {
	registerGen(func() []*Case { return append(modelCasesT[float32](), modelCasesT[float64]()...) })
}
