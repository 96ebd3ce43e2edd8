package gonumblas

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	nnblas "github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/kernels"
)

// TestGemmDisjointBlocks multiplies disjoint blocks of one matrix, as
// LAPACK's blocked factorizations do (Dgetrf's trailing update
// C -= A·B with A, B and C in one array, one stride): it must run on
// nnkern (not fall back to gonum) and agree with gonum's.
func TestGemmDisjointBlocks(t *testing.T) {
	const n, jb, ld = 70, 8, 73
	rng := rand.New(rand.NewPCG(7, 8))
	x := randSlice[float64](rng, n*ld)
	a := x[jb*ld:]    // rows [jb, n), columns [0, jb)
	b := x[jb:]       // rows [0, jb), columns [jb, n)
	c := x[jb*ld+jb:] // rows [jb, n), columns [jb, n)
	m := n - jb
	am := view(a, m, jb, ld, false)
	bm := view(b, jb, m, ld, false)
	cm := view(c, m, m, ld, false)
	if nnblas.Overlaps(am, cm) || nnblas.Overlaps(bm, cm) {
		t.Fatal("disjoint blocks of one matrix taken as overlapping: LAPACK's updates would run on gonum")
	}
	want := append([]float64(nil), x...)
	Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, m, m, jb, -1, a, ld, b, ld, 1, c, ld)
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, m, m, jb, -1, want[jb*ld:], ld, want[jb:], ld, 1, want[jb*ld+jb:], ld)
	// |entries| < 1: the bound of compare_test.go is 2·γ(jb+2)·(jb+1).
	tol := 2 * gamma[float64](jb+2) * (jb + 1)
	for i := range x {
		if math.Abs(x[i]-want[i]) > tol {
			t.Fatalf("element %d (row %d, column %d): %v, gonum %v", i, i/ld, i%ld, x[i], want[i])
		}
	}
}

// TestGemmOverlapFallsBackToGonum: C sharing elements with A is left
// undefined by BLAS and refused by nnkern's Gemm; the adapter must not
// panic but do what gonum does, bit for bit.
func TestGemmOverlapFallsBackToGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := randSlice[float64](rng, 200)
	bv := randSlice[float64](rng, 64)
	want := append([]float64(nil), x...)
	Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, 8, 8, 8, 1, x, 8, bv, 8, 1, x[4:], 8)
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, 8, 8, 8, 1, want, 8, bv, 8, 1, want[4:], 8)
	if !same(x, want) {
		t.Fatal("overlapping Dgemm differs from gonum's")
	}
}

// TestOverlapsAgreesWithGemm checks this package's copy of the overlap
// rule against nnkern's Gemm itself: for views of one array at random
// offsets and strides, Gemm panics exactly when overlaps says so.
func TestOverlapsAgreesWithGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, 4096)
	bm := nnblas.NewMatrix[float32](8, 8)
	refusals := 0
	for it := 0; it < 2000; it++ {
		m, k, n := 1+rng.IntN(8), 8, 1+rng.IntN(8)
		sa := k + rng.IntN(3)
		sc := sa
		if rng.IntN(4) == 0 {
			sc = n + rng.IntN(12)
		}
		sc = max(sc, n)
		oa, oc := rng.IntN(200), rng.IntN(200)
		am := view(x[oa:], m, k, sa, false)
		cm := view(x[oc:], m, n, sc, false)
		r := recovered(func() { nnblas.Gemm(false, false, 1, am, bm.Slice(0, k, 0, n), 0, cm) })
		refused := r != nil && strings.Contains(r.(string), "overlaps")
		if r != nil && !refused {
			t.Fatalf("Gemm panicked: %v", r)
		}
		if refused != nnblas.Overlaps(am, cm) {
			t.Fatalf("A %d×%d stride %d at %d, C %d×%d stride %d at %d: Gemm refuses: %v, overlaps: %v",
				m, k, sa, oa, m, n, sc, oc, refused, nnblas.Overlaps(am, cm))
		}
		if refused {
			refusals++
		}
	}
	if refusals == 0 || refusals == 2000 {
		t.Fatalf("%d of 2000 random views overlap: the test no longer covers both sides", refusals)
	}
}

// TestGemmSameBitsEveryISA: on the native backend, Dgemm and Sgemm give the
// same bits on every ISA level available here (nnkern's contract, kept
// through the adapter: strides and transposes pass through unchanged).
func TestGemmSameBitsEveryISA(t *testing.T) {
	if nnblas.Current() != "native" {
		skiplog.Skipf(t, "gonumblas ISA identity", "blas backend %q (NNKERN_BLAS), not native", nnblas.Current())
	}
	t.Run("f32", testGemmSameBitsEveryISA[float32])
	t.Run("f64", testGemmSameBitsEveryISA[float64])
}

func testGemmSameBitsEveryISA[T kernels.Float](t *testing.T) {
	ours, _ := gemms[T]()
	rng := rand.New(rand.NewPCG(13, 14))
	const m, n, k, ld = 37, 45, 300, 301
	a, b := randSlice[T](rng, m*ld), randSlice[T](rng, k*ld)
	c0 := randSlice[T](rng, m*ld)
	var first []T
	for _, lvl := range kernels.Levels() {
		restore := kernels.SetISA(lvl)
		c := append([]T(nil), c0...)
		ours(blas.NoTrans, blas.Trans, m, n, k, 1.5, a, ld, b[:n*ld], ld, 0.5, c, ld)
		restore()
		if first == nil {
			first = c
			continue
		}
		for i := range c {
			if c[i] != first[i] {
				t.Fatalf("isa=%v: element %d = %v, isa=%v gave %v", lvl, i, c[i], kernels.Levels()[0], first[i])
			}
		}
	}
}
