package cifar

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// PrepareConfig selects the notebooks' splits (see Prepare).
type PrepareConfig struct {
	NumTraining, NumValidation, NumTest, NumDev int    // rows of each split (see Prepare)
	Bias                                        bool   // append a column of ones (the softmax notebook's 3073 columns)
	Seed                                        uint32 // seed of the dev-row draw
}

// DefaultPrepareConfig returns the notebooks' settings: 49000 training,
// 1000 validation, 1000 test and 500 dev rows, no bias column, seed 0.
func DefaultPrepareConfig() PrepareConfig {
	return PrepareConfig{NumTraining: 49000, NumValidation: 1000, NumTest: 1000, NumDev: 500}
}

// Prepared is a dataset split the notebooks' way. The splits keep uint8
// rows (Train, Val and Test share the Dataset's storage; Dev is a copy);
// Mean is the float64 mean image of the training rows (H*W*C values), which
// Gather and Materialize subtract. Mean must not be modified after the first
// Gather (a float32 copy of it is cached). A Prepared built by hand (for
// example with a saved model's mean image) works too: set Mean and Bias.
type Prepared struct {
	Train, Val, Test, Dev Split     // uint8 rows of each split
	Mean                  []float64 // mean training image, H*W*C values
	Bias                  bool      // Gather and Materialize append a column of ones
	ClassNames            []string  // label k is ClassNames[k]

	once   sync.Once
	mean32 []float32
}

// Prepare splits ds the way the course notebooks do: validation is
// training rows [NumTraining, NumTraining+NumValidation), training is rows
// [0, NumTraining), test is the first NumTest test rows, dev is NumDev
// training rows drawn without replacement with
// nprand.New(Seed).Choice(NumTraining, NumDev, false) (numpy's
// np.random.choice after np.random.seed(Seed)); the mean image of the
// training rows is computed in float64 (exactly numpy's
// np.mean(X_train, axis=0)). Bias records whether Gather and Materialize
// append a column of ones.
func Prepare(ds *Dataset, cfg PrepareConfig) (*Prepared, error) {
	if err := ds.Check(); err != nil {
		return nil, err
	}
	switch {
	case cfg.NumTraining <= 0 || cfg.NumValidation < 0 || cfg.NumTest < 0 || cfg.NumDev < 0:
		return nil, fmt.Errorf("cifar.Prepare: bad config %+v (NumTraining must be > 0, the others >= 0)", cfg)
	case cfg.NumTraining+cfg.NumValidation > ds.Train.N:
		return nil, fmt.Errorf("cifar.Prepare: NumTraining+NumValidation = %d+%d > %d training images", cfg.NumTraining, cfg.NumValidation, ds.Train.N)
	case cfg.NumTest > ds.Test.N:
		return nil, fmt.Errorf("cifar.Prepare: NumTest = %d > %d test images", cfg.NumTest, ds.Test.N)
	case cfg.NumDev > cfg.NumTraining:
		return nil, fmt.Errorf("cifar.Prepare: NumDev = %d > NumTraining = %d (drawn without replacement)", cfg.NumDev, cfg.NumTraining)
	}
	p := &Prepared{
		Train:      ds.Train.Slice(0, cfg.NumTraining),
		Val:        ds.Train.Slice(cfg.NumTraining, cfg.NumTraining+cfg.NumValidation),
		Test:       ds.Test.Slice(0, cfg.NumTest),
		Bias:       cfg.Bias,
		ClassNames: ds.ClassNames,
	}
	p.Dev = p.Train.Subset(nprand.New(cfg.Seed).Choice(cfg.NumTraining, cfg.NumDev, false))
	p.Mean = MeanImage(&p.Train)
	return p, nil
}

// MeanImage returns the per-value mean of the rows of s in float64. The
// column sums are exact integers, so the result equals numpy's
// X.astype(float).mean(axis=0) bit for bit.
func MeanImage(s *Split) []float64 {
	d := s.Dim()
	mean := make([]float64, d)
	if s.N == 0 {
		return mean
	}
	// Columns are split between workers; each sums its columns exactly in
	// uint64, so the result does not depend on the number of workers.
	workers := min(runtime.GOMAXPROCS(0), max(d/256, 1))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := d*w/workers, d*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums := make([]uint64, hi-lo)
			for i := 0; i < s.N; i++ {
				row := s.X[i*d+lo : i*d+hi]
				for j, v := range row {
					sums[j] += uint64(v)
				}
			}
			for j, v := range sums {
				mean[lo+j] = float64(v) / float64(s.N)
			}
		}()
	}
	wg.Wait()
	return mean
}

// Dim returns the number of columns of a prepared row: H*W*C, plus one with Bias.
func (p *Prepared) Dim() int {
	if p.Bias {
		return len(p.Mean) + 1
	}
	return len(p.Mean)
}

func (p *Prepared) initMeans() {
	p.mean32 = make([]float32, len(p.Mean))
	for i, v := range p.Mean {
		p.mean32[i] = float32(v)
	}
}

// meanFor returns the mean image in T.
func meanFor[T kernels.Float](p *Prepared) []T {
	var out []T
	switch o := any(&out).(type) {
	case *[]float64:
		*o = p.Mean
	case *[]float32:
		p.once.Do(p.initMeans)
		*o = p.mean32
	}
	return out
}

// Gather fills dst with the prepared rows idx of s: row r of dst is
// float(s row idx[r]) − Mean, followed by a 1 when p.Bias. dst must be
// len(idx)×p.Dim() (any stride). It is the training hot path: one pass
// (kernels.U8ToFloat), no allocation. For float32 the mean is rounded to
// float32 before the subtraction, which can differ in the last bit from
// numpy's float64 subtraction followed by astype(float32).
//
// Gather panics, naming the arguments, on a shape mismatch or an index out
// of range.
func Gather[T kernels.Float](p *Prepared, s *Split, idx []int, dst blas.Matrix[T]) {
	d := len(p.Mean)
	if s.Dim() != d {
		panic(fmt.Sprintf("cifar.Gather: split images have %d values, Mean has %d", s.Dim(), d))
	}
	if dst.Rows != len(idx) || dst.Cols != p.Dim() {
		panic(fmt.Sprintf("cifar.Gather: dst is %d×%d, want len(idx)×Dim() = %d×%d", dst.Rows, dst.Cols, len(idx), p.Dim()))
	}
	if err := dst.Check(); err != nil {
		panic(fmt.Sprintf("cifar.Gather: dst: %v", err))
	}
	for r, i := range idx {
		if uint(i) >= uint(s.N) {
			panic(fmt.Sprintf("cifar.Gather: idx[%d] = %d out of range [0,%d)", r, i, s.N))
		}
	}
	if len(idx)*d*dtype.Size[T]() >= parallelGatherBytes && gatherParallel(p, s, idx, dst) {
		return
	}
	gatherRows(p, s, idx, dst, 0, len(idx))
}

// gatherAhead is how many rows ahead gatherRows prefetches the source rows:
// random rows of a 150 MB array come from DRAM, and prefetching rows
// r+1..r+gatherAhead while row r converts keeps several rows' misses in
// flight.
const gatherAhead = 8

// gatherCols is the column block of gatherRows: the batch is converted one
// block of columns at a time, so that block of the mean image (8 KB as
// float64) stays in L1 instead of a whole 24 KB mean row streaming from L2
// for every batch row. Once the rows are blocked a plain-load touch ahead
// no longer helps, so the rows ahead are fetched with kernels.Prefetch
// (7–15% faster than whole rows in BenchmarkGather; docs/performance.md).
const gatherCols = 1024

// gatherRows fills rows [lo, hi) of dst (indices already checked).
func gatherRows[T kernels.Float](p *Prepared, s *Split, idx []int, dst blas.Matrix[T], lo, hi int) {
	d := len(p.Mean)
	mean := meanFor[T](p)
	for c0 := 0; c0 < d; c0 += gatherCols {
		c1 := min(c0+gatherCols, d)
		m := mean[c0:c1]
		for r := lo; r < min(lo+gatherAhead, hi); r++ {
			kernels.Prefetch(s.X[idx[r]*d+c0 : idx[r]*d+c1])
		}
		for r := lo; r < hi; r++ {
			if r+gatherAhead < hi {
				i := idx[r+gatherAhead]
				kernels.Prefetch(s.X[i*d+c0 : i*d+c1])
			}
			i := idx[r]
			kernels.U8ToFloat(dst.Data[r*dst.Stride+c0:r*dst.Stride+c1], s.X[i*d+c0:i*d+c1], m)
		}
	}
	if p.Bias {
		for r := lo; r < hi; r++ {
			dst.Data[r*dst.Stride+d] = 1
		}
	}
}

// Materialize returns the whole split s prepared as a float matrix
// (s.N × p.Dim()), the reference's X_train / X_val / X_test.
func Materialize[T kernels.Float](p *Prepared, s *Split) blas.Matrix[T] {
	m := blas.NewMatrix[T](s.N, p.Dim())
	const block = 1024
	idx := make([]int, block)
	for i := 0; i < s.N; i += block {
		j := min(i+block, s.N)
		for k := i; k < j; k++ {
			idx[k-i] = k
		}
		Gather(p, s, idx[:j-i], m.Slice(i, j, 0, m.Cols))
	}
	return m
}

// Source serves the prepared rows of one split by index; it implements
// train.Source[T] (Rows, Cols, Gather) without materialising the split.
type Source[T kernels.Float] struct {
	p *Prepared
	s *Split
}

// NewSource returns a Source for split s of p (s is usually &p.Train, &p.Val, ...).
func NewSource[T kernels.Float](p *Prepared, s *Split) *Source[T] {
	if s.Dim() != len(p.Mean) {
		panic(fmt.Sprintf("cifar.NewSource: split images have %d values, Mean has %d", s.Dim(), len(p.Mean)))
	}
	return &Source[T]{p: p, s: s}
}

// Rows returns the number of rows, N.
func (src *Source[T]) Rows() int { return src.s.N }

// Cols returns the number of columns, p.Dim().
func (src *Source[T]) Cols() int { return src.p.Dim() }

// Gather fills dst with the rows idx (see the package function Gather).
func (src *Source[T]) Gather(dst blas.Matrix[T], idx []int) { Gather(src.p, src.s, idx, dst) }

// Shuffle permutes the rows of s in place with
// nprand.New(seed).Permutation(s.N) (numpy's np.random.permutation after
// np.random.seed(seed)): row i becomes the old row perm[i]. Image folders
// load class by class; shuffle them before Prepare takes the last training
// rows as the validation set.
func Shuffle(s *Split, seed uint32) {
	permuteRows(s, nprand.New(seed).Permutation(s.N))
}

// permuteRows sets row i of s to the old row perm[i], in place (cycle by
// cycle, one row of scratch).
func permuteRows(s *Split, perm []int) {
	d := s.Dim()
	done := make([]bool, s.N)
	tmp := make([]uint8, d)
	for start := range perm {
		if done[start] {
			continue
		}
		copy(tmp, s.X[start*d:(start+1)*d])
		ty := s.Y[start]
		j := start
		for {
			done[j] = true
			k := perm[j]
			if k == start {
				copy(s.X[j*d:(j+1)*d], tmp)
				s.Y[j] = ty
				break
			}
			copy(s.X[j*d:(j+1)*d], s.X[k*d:(k+1)*d])
			s.Y[j] = s.Y[k]
			j = k
		}
	}
}
