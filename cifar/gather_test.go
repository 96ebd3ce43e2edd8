package cifar

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/allocstest"
	"github.com/nnkern/nnkern/kernels"
)

// bitsEqual reports the first element where a and b differ in their bits.
func bitsEqual[T kernels.Float](a, b blas.Matrix[T]) error {
	for r := 0; r < a.Rows; r++ {
		for j := 0; j < a.Cols; j++ {
			x, y := float64(a.At(r, j)), float64(b.At(r, j))
			if math.Float64bits(x) != math.Float64bits(y) {
				return fmt.Errorf("row %d col %d: %v vs %v", r, j, x, y)
			}
		}
	}
	return nil
}

// TestGatherShapes: image sizes whose row length is below, at and across
// gatherCols, with a tail block, against the naive rows on every ISA.
func TestGatherShapes(t *testing.T) {
	for _, l := range kernels.Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer kernels.SetISA(l)()
			t.Run("f32", testGatherShapes[float32])
			t.Run("f64", testGatherShapes[float64])
		})
	}
}

func testGatherShapes[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(77, 3))
	for _, hwc := range [][3]int{{1, 1, 1}, {5, 7, 3}, {16, 16, 4}, {20, 20, 3}, {32, 32, 1}, {33, 33, 3}, {37, 37, 3}} {
		ds := &Dataset{
			Train:      randomSplit(rng, 40, hwc[0], hwc[1], hwc[2], 10),
			Test:       randomSplit(rng, 5, hwc[0], hwc[1], hwc[2], 10),
			ClassNames: append([]string(nil), testClasses...),
		}
		for _, bias := range []bool{false, true} {
			p, err := Prepare(ds, PrepareConfig{NumTraining: 35, NumValidation: 5, NumTest: 5, NumDev: 3, Bias: bias, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 9, 30} {
				idx := make([]int, n)
				for i := range idx {
					idx[i] = rng.IntN(p.Train.N)
				}
				dst := blas.NewMatrix[T](n, p.Dim())
				Gather(p, &p.Train, idx, dst)
				for r, i := range idx {
					for j, w := range naiveRow[T](p, &p.Train, i) {
						if got := dst.At(r, j); got != w {
							t.Fatalf("%v bias=%v n=%d row %d col %d: got %v want %v", hwc, bias, n, r, j, got, w)
						}
					}
				}
			}
		}
	}
}

// TestGatherParallelEqualsSerial: the pooled Gather of a large batch equals
// one serial pass bit for bit under GOMAXPROCS 1, 2 and 3 (the pool grows
// to 2 workers), and so does any split of the rows into 2 to 5 pieces (the
// splits of larger pools).
func TestGatherParallelEqualsSerial(t *testing.T) {
	t.Run("f32", testGatherParallel[float32])
	t.Run("f64", testGatherParallel[float64])
}

func testGatherParallel[T kernels.Float](t *testing.T) {
	_, p := smallPrepared(t, true)
	rng := rand.New(rand.NewPCG(5, 5))
	var z T
	// a batch just above the pool's threshold
	idx := make([]int, parallelGatherBytes/(len(p.Mean)*int(unsafe.Sizeof(z)))+7)
	for i := range idx {
		idx[i] = rng.IntN(p.Train.N)
	}
	serial := blas.NewMatrix[T](len(idx), p.Dim())
	gatherRows(p, &p.Train, idx, serial, 0, len(idx))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		got := blas.NewMatrix[T](len(idx), p.Dim())
		Gather(p, &p.Train, idx, got)
		if err := bitsEqual(got, serial); err != nil {
			t.Fatalf("GOMAXPROCS=%d: Gather differs from the serial pass: %v", procs, err)
		}
	}
	// fewer rows than gatherTasks, straight to the parallel path
	for _, n := range []int{1, 3, gatherTasks - 1, gatherTasks + 1} {
		got := blas.NewMatrix[T](n, p.Dim())
		if !gatherParallel(p, &p.Train, idx[:n], got) {
			t.Fatalf("%d rows: gatherParallel refused with no other gather running", n)
		}
		if err := bitsEqual(got, serial.Slice(0, n, 0, serial.Cols)); err != nil {
			t.Fatalf("%d rows in parallel: differs from the serial pass: %v", n, err)
		}
	}
	// the step keeps no reference to the data once it returns
	for _, st := range []any{&gatherSteps.f32, &gatherSteps.f64} {
		switch st := st.(type) {
		case *gatherStep[float32]:
			if st.p != nil || st.s != nil || st.idx != nil || st.dst.Data != nil {
				t.Fatal("the float32 gather step still references its last batch")
			}
		case *gatherStep[float64]:
			if st.p != nil || st.s != nil || st.idx != nil || st.dst.Data != nil {
				t.Fatal("the float64 gather step still references its last batch")
			}
		}
	}
	// concurrent gathers: one may find the step busy and go serial; all
	// results are the same
	runtime.GOMAXPROCS(2)
	var wg sync.WaitGroup
	outs := make([]blas.Matrix[T], 4)
	for g := range outs {
		outs[g] = blas.NewMatrix[T](len(idx), p.Dim())
		wg.Go(func() {
			for range 5 {
				Gather(p, &p.Train, idx, outs[g])
			}
		})
	}
	wg.Wait()
	for g := range outs {
		if err := bitsEqual(outs[g], serial); err != nil {
			t.Fatalf("concurrent gather %d: differs from the serial pass: %v", g, err)
		}
	}
	for parts := 2; parts <= 5; parts++ {
		got := blas.NewMatrix[T](len(idx), p.Dim())
		for k := range parts {
			gatherRows(p, &p.Train, idx, got, len(idx)*k/parts, len(idx)*(k+1)/parts)
		}
		if err := bitsEqual(got, serial); err != nil {
			t.Fatalf("%d pieces: differs from the serial pass: %v", parts, err)
		}
	}
}

// TestGatherAllocsParallel: testing.AllocsPerRun runs at GOMAXPROCS 1,
// where Group.Run calls the tasks in a loop, so TestGatherNoAlloc (a
// small batch besides) never reaches the pooled gather; here the
// process-wide malloc count is read around batches above
// parallelGatherBytes at GOMAXPROCS 2 and 3. One allocation per gather
// would count 2·calls; up to calls/2 is tolerated for the runtime's own
// (seen: up to 11 in 40 pairs, sudogs made when a worker parks on the
// pool's queue after a GC cycle emptied the sudog caches).
func TestGatherAllocsParallel(t *testing.T) {
	_, p := smallPrepared(t, true)
	rng := rand.New(rand.NewPCG(9, 9))
	idx := make([]int, parallelGatherBytes/(len(p.Mean)*4)+7) // above the threshold in float32 too
	for i := range idx {
		idx[i] = rng.IntN(p.Train.N)
	}
	dst32 := blas.NewMatrix[float32](len(idx), p.Dim())
	dst64 := blas.NewMatrix[float64](len(idx), p.Dim())
	const calls = 40
	allocstest.CheckParallel(t, "pairs of pooled Gather", []int{2, 3}, 5, calls, calls/2, func() {
		Gather(p, &p.Train, idx, dst32)
		Gather(p, &p.Train, idx, dst64)
	})
}
