package blas

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as
// transA/transB say. With beta == 0, C is not read (NaNs in C are
// overwritten). It panics, naming the shapes, if they do not conform.
//
// This is the plain reference implementation; the native backend replaces
// it.
func Gemm[T kernels.Float](transA, transB bool, alpha T, a, b Matrix[T], beta T, c Matrix[T]) {
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("blas.Gemm: shape mismatch: op(A) %d×%d (transA=%v), op(B) %d×%d (transB=%v), C %d×%d",
			m, k, transA, kb, n, transB, c.Rows, c.Cols))
	}
	for _, x := range []struct {
		name string
		err  error
	}{{"A", a.Check()}, {"B", b.Check()}, {"C", c.Check()}} {
		if x.err != nil {
			panic(fmt.Sprintf("blas.Gemm: %s: %v", x.name, x.err))
		}
	}
	at := func(i, p int) T {
		if transA {
			return a.Data[p*a.Stride+i]
		}
		return a.Data[i*a.Stride+p]
	}
	bt := func(p, j int) T {
		if transB {
			return b.Data[j*b.Stride+p]
		}
		return b.Data[p*b.Stride+j]
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			ci := &c.Data[i*c.Stride+j]
			if beta == 0 {
				*ci = alpha * s
			} else {
				*ci = alpha*s + beta**ci
			}
		}
	}
}
