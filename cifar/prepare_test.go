package cifar

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/testenv"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

// source is softmax.Source[T] as fixed in CONTRACTS.md.
type source[T kernels.Float] interface {
	Rows() int
	Cols() int
	Gather(dst blas.Matrix[T], idx []int)
}

var (
	_ source[float32] = (*Source[float32])(nil)
	_ source[float64] = (*Source[float64])(nil)
)

func smallPrepared(t testing.TB, bias bool) (*Dataset, *Prepared) {
	ds := randomDataset(31, 120, 30)
	p, err := Prepare(ds, PrepareConfig{NumTraining: 100, NumValidation: 15, NumTest: 25, NumDev: 40, Bias: bias, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return ds, p
}

func TestPrepareSplits(t *testing.T) {
	ds, p := smallPrepared(t, true)
	equalSplit(t, "train", &p.Train, &Split{X: ds.Train.X[:100*3072], Y: ds.Train.Y[:100], N: 100, H: 32, W: 32, C: 3})
	equalSplit(t, "val", &p.Val, &Split{X: ds.Train.X[100*3072 : 115*3072], Y: ds.Train.Y[100:115], N: 15, H: 32, W: 32, C: 3})
	equalSplit(t, "test", &p.Test, &Split{X: ds.Test.X[:25*3072], Y: ds.Test.Y[:25], N: 25, H: 32, W: 32, C: 3})
	dev := nprand.New(7).Choice(100, 40, false)
	for r, i := range dev {
		if string(p.Dev.Image(r)) != string(ds.Train.Image(i)) || p.Dev.Y[r] != ds.Train.Y[i] {
			t.Fatalf("dev row %d is not training row %d", r, i)
		}
	}
	// Mean: a naive float64 column mean.
	for j := 0; j < 3072; j++ {
		var s float64
		for i := 0; i < 100; i++ {
			s += float64(ds.Train.X[i*3072+j])
		}
		if p.Mean[j] != s/100 {
			t.Fatalf("mean[%d] = %v, want %v", j, p.Mean[j], s/100)
		}
	}
	if p.Dim() != 3073 || len(p.ClassNames) != 10 {
		t.Fatalf("Dim %d", p.Dim())
	}
	if c := DefaultPrepareConfig(); c != (PrepareConfig{NumTraining: 49000, NumValidation: 1000, NumTest: 1000, NumDev: 500}) {
		t.Fatalf("defaults %+v", c)
	}
}

func TestPrepareErrors(t *testing.T) {
	ds := randomDataset(32, 20, 5)
	for _, c := range []struct {
		cfg  PrepareConfig
		want string
	}{
		{PrepareConfig{NumTraining: 15, NumValidation: 6}, "NumTraining+NumValidation = 15+6 > 20"},
		{PrepareConfig{NumTraining: 10, NumTest: 6}, "NumTest = 6 > 5"},
		{PrepareConfig{NumTraining: 10, NumDev: 11}, "NumDev = 11 > NumTraining = 10"},
		{PrepareConfig{NumTraining: 0}, "NumTraining must be > 0"},
		{PrepareConfig{NumTraining: 5, NumDev: -1}, "bad config"},
	} {
		_, err := Prepare(ds, c.cfg)
		wantErr(t, err, c.want)
	}
	bad := randomDataset(33, 20, 5)
	bad.Train.Y[3] = 10
	_, err := Prepare(bad, PrepareConfig{NumTraining: 10})
	wantErr(t, err, "train split", "record 3", "label 10")
}

// naiveRow is the reference: float64(x) - mean, then T, plus the bias 1.
func naiveRow[T kernels.Float](p *Prepared, s *Split, i int) []T {
	row := make([]T, 0, p.Dim())
	for j, v := range s.Image(i) {
		if _, f32 := any(T(0)).(float32); f32 {
			row = append(row, T(float32(v)-float32(p.Mean[j])))
		} else {
			row = append(row, T(float64(v)-p.Mean[j]))
		}
	}
	if p.Bias {
		row = append(row, 1)
	}
	return row
}

func testGather[T kernels.Float](t *testing.T) {
	for _, bias := range []bool{false, true} {
		_, p := smallPrepared(t, bias)
		rng := rand.New(rand.NewPCG(41, 1))
		for _, n := range []int{0, 1, 3, 17, 64} {
			idx := make([]int, n)
			for i := range idx {
				idx[i] = rng.IntN(p.Train.N)
			}
			// A strided destination with NaN guards in the padding.
			stride := p.Dim() + 5
			data := make([]T, n*stride)
			for i := range data {
				data[i] = T(math.NaN())
			}
			dst := blas.Matrix[T]{Rows: n, Cols: p.Dim(), Stride: stride, Data: data}
			NewSource[T](p, &p.Train).Gather(dst, idx)
			for r, i := range idx {
				want := naiveRow[T](p, &p.Train, i)
				for j, w := range want {
					if got := dst.At(r, j); got != w {
						t.Fatalf("bias=%v n=%d row %d col %d: got %v want %v", bias, n, r, j, got, w)
					}
				}
				for j := p.Dim(); j < stride && r*stride+j < len(data); j++ {
					if !math.IsNaN(float64(data[r*stride+j])) {
						t.Fatalf("padding overwritten at row %d col %d", r, j)
					}
				}
			}
		}
		m := Materialize[T](p, &p.Val)
		if m.Rows != p.Val.N || m.Cols != p.Dim() {
			t.Fatalf("Materialize shape %dx%d", m.Rows, m.Cols)
		}
		for i := 0; i < m.Rows; i++ {
			for j, w := range naiveRow[T](p, &p.Val, i) {
				if m.At(i, j) != w {
					t.Fatalf("Materialize row %d col %d", i, j)
				}
			}
		}
	}
}

func TestGather(t *testing.T) {
	for _, l := range kernels.Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer kernels.SetISA(l)()
			t.Run("f32", testGather[float32])
			t.Run("f64", testGather[float64])
		})
	}
}

func TestGatherNoAlloc(t *testing.T) {
	_, p := smallPrepared(t, true)
	idx := []int{5, 3, 99, 0, 5}
	dst32 := blas.NewMatrix[float32](len(idx), p.Dim())
	dst64 := blas.NewMatrix[float64](len(idx), p.Dim())
	src := NewSource[float32](p, &p.Train)
	if a := testing.AllocsPerRun(20, func() {
		Gather(p, &p.Train, idx, dst32)
		Gather(p, &p.Train, idx, dst64)
		src.Gather(dst32, idx)
	}); a != 0 {
		t.Fatalf("Gather allocates %v times per call", a)
	}
}

func TestGatherPanics(t *testing.T) {
	_, p := smallPrepared(t, false)
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"rows", func() { Gather(p, &p.Train, []int{1, 2}, blas.NewMatrix[float32](3, 3072)) }, "dst is 3×3072, want len(idx)×Dim() = 2×3072"},
		{"cols", func() { Gather(p, &p.Train, []int{1}, blas.NewMatrix[float32](1, 3073)) }, "dst is 1×3073"},
		{"index", func() { Gather(p, &p.Train, []int{1, 100}, blas.NewMatrix[float32](2, 3072)) }, "idx[1] = 100 out of range [0,100)"},
		{"negative", func() { Gather(p, &p.Train, []int{-1}, blas.NewMatrix[float32](1, 3072)) }, "idx[0] = -1"},
		{"short data", func() {
			Gather(p, &p.Train, []int{1}, blas.Matrix[float32]{Rows: 1, Cols: 3072, Stride: 3072, Data: make([]float32, 10)})
		}, "too short"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Fatalf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		})
	}
}

func TestShuffle(t *testing.T) {
	ds := randomDataset(51, 37, 1)
	orig := ds.Train.Subset(nprand.New(9).Permutation(37))
	Shuffle(&ds.Train, 9)
	equalSplit(t, "shuffled", &ds.Train, &orig)
}

// numpyPrepare is the notebooks' preprocessing in numpy. stdin: a JSON
// header line, then the training rows then the test rows (uint8, HWC).
const numpyPrepare = `
import sys, json, hashlib
import numpy as np
cfg = json.loads(sys.stdin.buffer.readline())
D, ntr, nval, nte, ndev = cfg['dim'], cfg['ntrain'], cfg['nval'], cfg['ntest'], cfg['ndev']
raw = np.frombuffer(sys.stdin.buffer.read(), np.uint8)
Xall = raw[:cfg['trainrows'] * D].reshape(-1, D)
Xte_all = raw[cfg['trainrows'] * D:].reshape(-1, D)
X_train = Xall[:ntr]                      # uint8; astype(float) below, row blocks at a time
np.random.seed(cfg['seed'])
mask = np.random.choice(ntr, ndev, replace=False)
# X_train.astype(float).mean(0) without the 1.2 GB float copy: the column
# sums of integers are exact in float64 either way, so this is bit-identical.
mean = X_train.mean(axis=0, dtype=np.float64)
def prep(X):
    X = X.astype(np.float64) - mean
    if cfg['bias']:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    return X
h = lambda a: hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()
dev = prep(X_train[mask])
print(json.dumps({'mean': h(mean), 'first': h(prep(X_train[:3])), 'val': h(prep(Xall[ntr:ntr + nval])),
    'test': h(prep(Xte_all[:nte])), 'dev': h(dev), 'dev32': dev.astype(np.float32).tobytes().hex(),
    'mask': mask[:10].tolist()}))
`

func md5F64(x []float64) string {
	b := make([]byte, 8*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// checkPrepareNumpy compares Prepare + Materialize with numpy's computation.
func checkPrepareNumpy(t *testing.T, ds *Dataset, cfg PrepareConfig) {
	p, err := Prepare(ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	trainRows := cfg.NumTraining + cfg.NumValidation
	hdr, _ := json.Marshal(map[string]any{"dim": ds.Train.Dim(), "ntrain": cfg.NumTraining, "nval": cfg.NumValidation,
		"ntest": cfg.NumTest, "ndev": cfg.NumDev, "seed": cfg.Seed, "bias": cfg.Bias, "trainrows": trainRows})
	in := append(append(append(hdr, '\n'), ds.Train.X[:trainRows*ds.Train.Dim()]...), ds.Test.X[:cfg.NumTest*ds.Test.Dim()]...)
	var out struct {
		Mean, First, Val, Test, Dev, Dev32 string
		Mask                               []int
	}
	if err := json.Unmarshal(testenv.NumPy(t, numpyPrepare, in), &out); err != nil {
		t.Fatal(err)
	}
	if got := md5F64(p.Mean); got != out.Mean {
		t.Errorf("mean image differs from numpy's")
	}
	first := Materialize[float64](p, &Split{X: p.Train.X[:3*p.Train.Dim()], Y: p.Train.Y[:3], N: 3, H: p.Train.H, W: p.Train.W, C: p.Train.C})
	for _, c := range []struct {
		name, want string
		got        blas.Matrix[float64]
	}{
		{"first rows", out.First, first},
		{"val", out.Val, Materialize[float64](p, &p.Val)},
		{"test", out.Test, Materialize[float64](p, &p.Test)},
		{"dev", out.Dev, Materialize[float64](p, &p.Dev)},
	} {
		if got := md5F64(c.got.Data); got != c.want {
			t.Errorf("%s: float64 rows differ from numpy's", c.name)
		}
	}
	want := nprand.New(cfg.Seed).Choice(cfg.NumTraining, cfg.NumDev, false)
	if fmt.Sprint(want[:min(10, len(want))]) != fmt.Sprint(out.Mask) {
		t.Errorf("dev rows %v, numpy %v", want[:10], out.Mask)
	}
	// float32: ours is float32(x) − float32(mean), numpy's is
	// float32(x − mean). Each rounding is at most half a float32 ulp of a
	// value below 256, 2^-17: ours has two (the mean, the difference), numpy's
	// one, so they differ by at most 3·2^-17.
	raw, _ := hex.DecodeString(out.Dev32)
	dev32 := Materialize[float32](p, &p.Dev)
	worst := 0.0
	for i, v := range dev32.Data {
		w := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		worst = max(worst, math.Abs(float64(v)-float64(w)))
	}
	if worst > 3.0/(1<<17) {
		t.Errorf("float32 dev rows differ from numpy's by up to %g", worst)
	}
	t.Logf("float64 rows bit-identical to numpy; float32 max |diff| %g", worst)
}

func TestPrepareNumpyFixture(t *testing.T) {
	ds := randomDataset(61, 300, 40)
	checkPrepareNumpy(t, ds, PrepareConfig{NumTraining: 250, NumValidation: 50, NumTest: 40, NumDev: 100, Bias: true, Seed: 12345})
}

var (
	realOnce sync.Once
	realDS   *Dataset
	realErr  error
)

// realCIFAR loads the shared CIFAR-10 JPEG archive once for all tests.
func realCIFAR(t *testing.T) *Dataset {
	p := testenv.SharedFile(t, "data/cifar10-jpeg.tar.gz")
	realOnce.Do(func() { realDS, realErr = Load(p) })
	if realErr != nil {
		t.Fatal(realErr)
	}
	return realDS
}

func TestRealJPEG(t *testing.T) {
	ds := realCIFAR(t)
	if ds.Train.N != 50000 || ds.Test.N != 10000 || ds.Train.H != 32 || ds.Train.W != 32 || ds.Train.C != 3 {
		t.Fatalf("train %d test %d, %dx%dx%d", ds.Train.N, ds.Test.N, ds.Train.H, ds.Train.W, ds.Train.C)
	}
	if strings.Join(ds.ClassNames, " ") != "airplane automobile bird cat deer dog frog horse ship truck" {
		t.Fatalf("classes %v", ds.ClassNames)
	}
	for _, c := range []struct {
		s    *Split
		want int
	}{{&ds.Train, 5000}, {&ds.Test, 1000}} {
		var n [10]int
		for _, y := range c.s.Y {
			n[y]++
		}
		for k, v := range n {
			if v != c.want {
				t.Fatalf("class %d has %d images, want %d", k, v, c.want)
			}
		}
	}
}

// TestRealPrepareNumpy checks Prepare on the real data against numpy (mean
// image, first rows, val/test rows, dev rows for a seed), with the bias column.
func TestRealPrepareNumpy(t *testing.T) {
	ds := realCIFAR(t)
	cfg := DefaultPrepareConfig()
	cfg.Bias, cfg.Seed = true, 231
	checkPrepareNumpy(t, ds, cfg)
}

// TestGatherConcurrent: Gathers running at once (the pool busy, callers
// falling back to their own rows) all give the reference rows.
func TestGatherConcurrent(t *testing.T) {
	_, p := smallPrepared(t, true)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			idx := make([]int, 90) // 90×3072 values: large enough for the pool
			dst := blas.NewMatrix[float64](len(idx), p.Dim())
			for it := 0; it < 20; it++ {
				for i := range idx {
					idx[i] = rng.IntN(p.Train.N)
				}
				Gather(p, &p.Train, idx, dst)
				for r, i := range idx {
					want := naiveRow[float64](p, &p.Train, i)
					for j, w := range want {
						if dst.At(r, j) != w {
							errs <- fmt.Sprintf("goroutine %d iteration %d row %d col %d", g, it, r, j)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
