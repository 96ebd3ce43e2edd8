package cifar

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/nprand"
)

var benchPrepared *Prepared

// benchPrep is a 49000-row training set of random pixels (the numpy peer's
// shape when it runs without --cifar), with the bias column.
func benchPrep(b *testing.B) *Prepared {
	if benchPrepared == nil {
		ds := randomDataset(91, 49000, 0)
		p, err := Prepare(ds, PrepareConfig{NumTraining: 49000, Bias: true})
		if err != nil {
			b.Fatal(err)
		}
		benchPrepared = p
	}
	return benchPrepared
}

func benchGather[T kernels.Float](b *testing.B) {
	p := benchPrep(b)
	rng := nprand.New(0)
	// Like the peer's Xb[np.random.choice(49000, 200)]: draw, then gather.
	benchBatch(b, func(dst blas.Matrix[T]) { Gather(p, &p.Train, rng.Choice(49000, 200, true), dst) })
}

// benchBatch times op filling a 200×3073 batch, reporting the median
// (ns/op) and, like the peer (best of 200), the best time.
func benchBatch[T kernels.Float](b *testing.B, op func(dst blas.Matrix[T])) {
	p := benchPrep(b)
	dst := blas.NewMatrix[T](200, p.Dim())
	var t T
	b.SetBytes(int64(200 * p.Dim() * int(sizeOf(t))))
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		t0 := time.Now()
		op(dst)
		best = min(best, time.Since(t0))
	}
	b.ReportMetric(float64(best.Nanoseconds()), "best-ns/op")
}

func sizeOf[T kernels.Float](T) int {
	var t T
	if _, ok := any(t).(float32); ok {
		return 4
	}
	return 8
}

// BenchmarkGather: 200 random rows of the 49000×3072 training set into a
// 200×3073 batch (with bias), index draw included, as the numpy peer's
// gather_200rows_s.
func BenchmarkGather(b *testing.B) {
	for _, l := range kernels.Levels() {
		b.Run("f32/isa="+l.String()+"/200x3073", func(b *testing.B) { defer kernels.SetISA(l)(); benchGather[float32](b) })
		b.Run("f64/isa="+l.String()+"/200x3073", func(b *testing.B) { defer kernels.SetISA(l)(); benchGather[float64](b) })
	}
	b.Run("f32/store-floor/200x3073", benchStoreFloor[float32])
	b.Run("f64/store-floor/200x3073", benchStoreFloor[float64])
}

// benchStoreFloor times only writing every byte of the batch once
// (clear(dst), one goroutine), with the same reporting as benchGather: a
// lower bound for any gather into that batch. Go's memclr uses REP STOSQ
// where the CPU has ERMS, which can skip the read-for-ownership that the
// ordinary stores of a conversion loop pay, so the bound is not tight. The
// gap between it and Gather is what conversion, source reads and the
// index draw cost; where stores to L3 are slow it caps the possible
// speed-up over numpy.
func benchStoreFloor[T kernels.Float](b *testing.B) {
	benchBatch(b, func(dst blas.Matrix[T]) { clear(dst.Data) })
}

// cifarDir is a directory holding cifar-10-batches-py and/or
// cifar-10-batches-bin for the load benchmarks (NNKERN_CIFAR_DIR).
func cifarDir(tb testing.TB, sub string) string {
	d := os.Getenv("NNKERN_CIFAR_DIR")
	if d == "" {
		tb.Log("set NNKERN_CIFAR_DIR to a directory holding cifar-10-batches-py / cifar-10-batches-bin")
		skiplog.Skip(tb, "CIFAR-10 load tests", "NNKERN_CIFAR_DIR not set")
	}
	p := filepath.Join(d, sub)
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		skiplog.Skipf(tb, "CIFAR-10 load tests", "%s not found", p)
	}
	return p
}

func benchLoad(b *testing.B, sub string) {
	dir := cifarDir(b, sub)
	for b.Loop() {
		ds, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(ds.Train.X) + len(ds.Test.X)))
	}
}

// BenchmarkLoad: all six batches of an extracted dataset (compare with the
// numpy peer's load_cifar_s).
func BenchmarkLoad(b *testing.B) {
	b.Run("python", func(b *testing.B) { benchLoad(b, "cifar-10-batches-py") })
	b.Run("binary", func(b *testing.B) { benchLoad(b, "cifar-10-batches-bin") })
}

// TestLoadPeakRSS loads CIFAR-10 from NNKERN_CIFAR_DIR (python, or
// NNKERN_CIFAR_SUB) and checks the process's peak RSS (VmHWM) stays under
// 250 MB. Run it alone: go test -run TestLoadPeakRSS.
func TestLoadPeakRSS(t *testing.T) {
	sub := os.Getenv("NNKERN_CIFAR_SUB")
	if sub == "" {
		sub = "cifar-10-batches-py"
	}
	ds, err := Load(cifarDir(t, sub))
	if err != nil {
		t.Fatal(err)
	}
	hwm := vmHWM(t)
	t.Logf("%s: %d+%d images, peak RSS %d MB", sub, ds.Train.N, ds.Test.N, hwm>>20)
	if hwm > 250<<20 {
		t.Errorf("peak RSS %d MB > 250 MB", hwm>>20)
	}
}

func vmHWM(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		skiplog.Skipf(t, "peak RSS checks", "no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	skiplog.Skip(t, "peak RSS checks", "no VmHWM in /proc/self/status")
	return 0
}
