package fused_test

import (
	"fmt"
	"testing"

	"github.com/nnkern/nnkern/internal/identity"
	"github.com/nnkern/nnkern/kernels"
	"github.com/nnkern/nnkern/softmax/internal/fused"
)

// TestIdentity runs this package's components of the identity suite (see
// package internal/identity, which may not import this one): MulAdd in
// both of the softmax loss's uses, MulAddTN and MulAddNT, over widths, depths and
// strides, at every ISA level and GOMAXPROCS 1, 2, 3. make identity runs
// it beside internal/identity's TestIdentity and merges the hash files.
func TestIdentity(t *testing.T) {
	var comps []identity.Component
	comps = append(comps, fusedComponents[float32]()...)
	comps = append(comps, fusedComponents[float64]()...)
	identity.TestSuite(t, comps)
}

func fusedComponents[T kernels.Float]() []identity.Component {
	muladd := "fused/MulAdd/" + identity.TypeName[T]()
	tn := "fused/MulAddTN/" + identity.TypeName[T]()
	nt := "fused/MulAddNT/" + identity.TypeName[T]()
	w := fused.Width[T]()
	return []identity.Component{
		identity.NewComponent(muladd, func(r *identity.Recorder) {
			// Both of the softmax loss's uses: scores S_b = X_b·W (a rows
			// of X, p along a row) and the gradient dW += X_bᵀ·dS_b (a
			// columns of X, p down a column).
			i := 0
			for _, grad := range []bool{false, true} {
				for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 13, 32, 33, 100} {
					for n := w; n <= fused.MaxCols; n += w {
						for _, k := range []int{1, 2, 3, 7, 8, 9, 31, 64, 100, 257} {
							if (m+n+k+i)%2 == 1 && m > 8 && k > 9 {
								i++
								continue
							}
							ldx := []int{k, k + 1, k + 5}[i%3] // X's row stride (scores) or m (gradient)
							ldb := n + []int{0, w, 3}[(i/3)%3]
							ldc := n + []int{0, 1, w}[(i/9)%3]
							label := fmt.Sprintf("grad=%v/%dx%dx%d/ldx=%d/ldb=%d/ldc=%d", grad, m, n, k, ldx, ldb, ldc)
							i++
							r.Case(label, func() {
								g := identity.NewGen(muladd + "/" + label)
								var a []T
								ai, ap := ldx, 1
								if grad { // a is X (k×m, row stride lda >= m): a[i + p·lda]
									lda := m + ldx - k
									ai, ap = 1, lda
									a = make([]T, (k-1)*lda+m)
								} else {
									a = make([]T, (m-1)*ldx+k)
								}
								identity.Fill(g, a, -6, 6, 4)
								b := make([]T, (k-1)*ldb+n)
								identity.Fill(g, b, -6, 6, 4)
								cbuf, c := identity.Guarded[T]((m-1)*ldc+n, i%8)
								identity.Fill(g, c, -6, 6, 4)
								fused.MulAdd(m, n, k, a, ai, ap, b, ldb, c, ldc)
								identity.Put(r, "c", cbuf)
							})
						}
					}
				}
			}
		}),
		identity.NewComponent(tn, func(r *identity.Recorder) {
			// dWᵀ (m = C classes × n = D) += dS_bᵀ (C×rows) · X_b (rows×D).
			i := 0
			for _, m := range []int{1, 2, 3, 5, 7, 10, 16, 17} {
				for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 70, 100, 257, 1000} {
					for _, k := range []int{1, 2, 3, 8, 9, 32, 33} {
						if (m*n+k+i)%3 != 0 && n > 9 {
							i++
							continue
						}
						lda := m + []int{0, 1, 6}[i%3]
						ldb := n + []int{0, 1, 8}[(i/3)%3]
						ldc := n + []int{0, 3, 16}[(i/9)%3]
						label := fmt.Sprintf("%dx%dx%d/lda=%d/ldb=%d/ldc=%d", m, n, k, lda, ldb, ldc)
						i++
						r.Case(label, func() {
							g := identity.NewGen(tn + "/" + label)
							a := make([]T, (k-1)*lda+m)
							identity.Fill(g, a, -6, 6, 4)
							b := make([]T, (k-1)*ldb+n)
							identity.Fill(g, b, -6, 6, 4)
							cbuf, c := identity.Guarded[T]((m-1)*ldc+n, i%8)
							identity.Fill(g, c, -6, 6, 4)
							fused.MulAddTN(m, n, k, a, lda, b, ldb, c, ldc)
							identity.Put(r, "c", cbuf)
						})
					}
				}
			}
		}),
		identity.NewComponent(nt, func(r *identity.Recorder) {
			// S_b (m = rows × n = C classes) += X_b (rows×D) · W, with
			// W given as Wᵀ (C×D): every k mod L tail, the row and
			// column blockings.
			i := 0
			for _, m := range []int{1, 2, 3, 5, 8, 17} {
				for _, n := range []int{1, 2, 3, 4, 7, 10, 11, 16, 17} {
					for _, k := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 3073} {
						if (m*n+k+i)%3 != 0 && k > 17 {
							i++
							continue
						}
						lda := k + []int{0, 1, 16}[i%3]
						ldb := k + []int{0, 3, 8}[(i/3)%3]
						ldc := n + []int{0, 1, 16}[(i/9)%3]
						label := fmt.Sprintf("%dx%dx%d/lda=%d/ldb=%d/ldc=%d", m, n, k, lda, ldb, ldc)
						i++
						r.Case(label, func() {
							g := identity.NewGen(nt + "/" + label)
							a := make([]T, (m-1)*lda+k)
							identity.Fill(g, a, -6, 6, 4)
							b := make([]T, (n-1)*ldb+k)
							identity.Fill(g, b, -6, 6, 4)
							cbuf, c := identity.Guarded[T]((m-1)*ldc+n, i%8)
							identity.Fill(g, c, -6, 6, 4)
							fused.MulAddNT(m, n, k, a, lda, b, ldb, c, ldc)
							identity.Put(r, "c", cbuf)
						})
					}
				}
			}
		}),
	}
}
