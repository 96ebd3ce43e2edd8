package gonumblas

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// recovered returns what f panics with, or nil.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// TestPanicsMatchGonum calls every overridden routine with bad arguments
// (and some good ones at the edges) on ours and on gonum's, and requires
// the same panic value (or none) from both: gonum's argument checks, in
// gonum's order, with gonum's strings.
func TestPanicsMatchGonum(t *testing.T) {
	const bad = blas.Transpose('X')
	s := make([]float64, 40)
	f := make([]float32, 40)
	type call struct {
		name string
		d    func(blas.Float64)
		s    func(blas.Float32)
	}
	var calls []call
	gemmArgs := []struct {
		tA, tB           blas.Transpose
		m, n, k          int
		la, lda, lb, ldb int
		lc, ldc          int
	}{
		{bad, blas.NoTrans, 2, 2, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, bad, 2, 2, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, -1, 2, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, 2, -1, 2, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, 2, 2, -1, 4, 2, 4, 2, 4, 2},
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 3, 12, 3, 6, 3},  // lda < k
		{blas.Trans, blas.NoTrans, 3, 2, 2, 6, 2, 4, 2, 6, 2},     // lda < m
		{blas.NoTrans, blas.NoTrans, 2, 3, 2, 4, 2, 6, 2, 6, 3},   // ldb < n
		{blas.NoTrans, blas.Trans, 2, 2, 3, 6, 3, 6, 2, 4, 2},     // ldb < k
		{blas.NoTrans, blas.NoTrans, 2, 3, 2, 4, 2, 6, 3, 6, 2},   // ldc < n
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 3, 2, 4, 2, 4, 2},   // short a
		{blas.Trans, blas.NoTrans, 2, 2, 3, 5, 2, 6, 2, 4, 2},     // short a, transposed
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 4, 2, 3, 2, 4, 2},   // short b
		{blas.NoTrans, blas.ConjTrans, 2, 3, 2, 4, 2, 5, 2, 6, 3}, // short b, transposed
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 4, 2, 4, 2, 3, 2},   // short c
		{blas.NoTrans, blas.NoTrans, 0, 2, 2, 0, 2, 0, 2, 0, 2},   // m == 0: no length checks
		{blas.NoTrans, blas.NoTrans, 2, 2, 0, 0, 1, 0, 2, 4, 2},   // k == 0
		{blas.NoTrans, blas.NoTrans, 2, 2, 2, 4, 2, 4, 2, 4, 2},   // good
	}
	for i, g := range gemmArgs {
		calls = append(calls, call{fmt.Sprintf("gemm#%d", i),
			func(impl blas.Float64) {
				impl.Dgemm(g.tA, g.tB, g.m, g.n, g.k, 1, s[:g.la], g.lda, s[:g.lb], g.ldb, 0, s[20:20+g.lc], g.ldc)
			},
			func(impl blas.Float32) {
				impl.Sgemm(g.tA, g.tB, g.m, g.n, g.k, 1, f[:g.la], g.lda, f[:g.lb], g.ldb, 0, f[20:20+g.lc], g.ldc)
			}})
	}
	gemvArgs := []struct {
		tA               blas.Transpose
		m, n, la, lda    int
		lx, incX, ly, iy int
	}{
		{bad, 2, 3, 6, 3, 3, 1, 2, 1},
		{blas.NoTrans, -1, 3, 6, 3, 3, 1, 2, 1},
		{blas.NoTrans, 2, -1, 6, 3, 3, 1, 2, 1},
		{blas.NoTrans, 2, 3, 6, 2, 3, 1, 2, 1},   // lda < n
		{blas.NoTrans, 2, 3, 6, 3, 3, 0, 2, 1},   // incX == 0
		{blas.NoTrans, 2, 3, 6, 3, 3, 1, 2, 0},   // incY == 0
		{blas.NoTrans, 2, 3, 6, 3, 2, 1, 2, 1},   // short x
		{blas.Trans, 2, 3, 6, 3, 2, 1, 2, 1},     // short y (len 3 needed)
		{blas.NoTrans, 2, 3, 5, 3, 3, 1, 2, 1},   // short a
		{blas.NoTrans, 2, 3, 6, 3, 5, 2, 2, 1},   // incX 2: gonum's
		{blas.NoTrans, 0, 3, 0, 3, 0, 1, 0, 1},   // m == 0
		{blas.ConjTrans, 2, 3, 6, 3, 2, 1, 3, 1}, // good
	}
	for i, g := range gemvArgs {
		calls = append(calls, call{fmt.Sprintf("gemv#%d", i),
			func(impl blas.Float64) {
				impl.Dgemv(g.tA, g.m, g.n, 1, s[:g.la], g.lda, s[10:10+g.lx], g.incX, 0, s[20:20+g.ly], g.iy)
			},
			func(impl blas.Float32) {
				impl.Sgemv(g.tA, g.m, g.n, 1, f[:g.la], g.lda, f[10:10+g.lx], g.incX, 0, f[20:20+g.ly], g.iy)
			}})
	}
	l1Args := []struct{ n, lx, incX, ly, incY int }{
		{-1, 3, 1, 3, 1}, {0, 0, 1, 0, 1}, {3, 2, 1, 3, 1}, {3, 3, 1, 2, 1}, {3, 3, 0, 3, 1},
		{3, 3, 1, 3, 0}, {3, 3, -1, 3, 1}, {3, 5, 2, 3, 1}, {3, 3, 1, 3, 1},
	}
	for i, g := range l1Args {
		calls = append(calls,
			call{fmt.Sprintf("dot#%d", i),
				func(impl blas.Float64) { impl.Ddot(g.n, s[:g.lx], g.incX, s[10:10+g.ly], g.incY) },
				func(impl blas.Float32) { impl.Sdot(g.n, f[:g.lx], g.incX, f[10:10+g.ly], g.incY) }},
			call{fmt.Sprintf("axpy#%d", i),
				func(impl blas.Float64) { impl.Daxpy(g.n, 2, s[:g.lx], g.incX, s[10:10+g.ly], g.incY) },
				func(impl blas.Float32) { impl.Saxpy(g.n, 2, f[:g.lx], g.incX, f[10:10+g.ly], g.incY) }},
			call{fmt.Sprintf("scal#%d", i),
				func(impl blas.Float64) { impl.Dscal(g.n, 2, s[:g.lx], g.incX) },
				func(impl blas.Float32) { impl.Sscal(g.n, 2, f[:g.lx], g.incX) }})
	}
	panicked := 0
	for _, c := range calls {
		got, want := recovered(func() { c.d(Implementation{}) }), recovered(func() { c.d(gonum.Implementation{}) })
		if got != want {
			t.Errorf("%s (float64): panic %v, gonum's %v", c.name, got, want)
		}
		got, want = recovered(func() { c.s(Implementation{}) }), recovered(func() { c.s(gonum.Implementation{}) })
		if got != want {
			t.Errorf("%s (float32): panic %v, gonum's %v", c.name, got, want)
		}
		if want != nil {
			panicked++
		}
	}
	// The table must exercise the checks, not only good calls.
	if panicked < len(calls)/2 {
		t.Errorf("only %d of %d calls panic in gonum: the table no longer tests the checks", panicked, len(calls))
	}
}
