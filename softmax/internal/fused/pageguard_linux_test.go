//go:build linux

package fused

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nnkern/nnkern/internal/pageguard"
	"github.com/nnkern/nnkern/kernels"
)

// The guard elements of the other tests catch writes outside the output;
// this test catches reads (and writes) outside any argument, every slice
// a kernel gets placed against a page that faults on any access
// (internal/pageguard). (The realigning AVX-512 MulAddNT kernels read
// whole 64-byte lines: each must hold an element of the row.)

// TestPageBounds: on every level, MulAdd (both of the loss's uses),
// MulAddTN, MulTN, MulAddNT and Transpose read and write nothing outside
// their slices, every slice against a faulting page at its start or its
// end, over shapes with and without tails and with row strides that put
// the rows at many offsets from a 64-byte line; and they give the generic
// level's results there. (The shape {4, 5, 16, 1}, with A at the page's
// end, puts a row that starts on a line and has no tail last before the
// guard page: the case the first realigning NT kernels read past.)
func TestPageBounds(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			testPageBounds[float32](t)
			testPageBounds[float64](t)
		})
	}
}

func testPageBounds[T kernels.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := pageguard.New(t)
	// run calls op on guarded copies of in (the inputs, then the output
	// last) and on ordinary copies at the generic level, and compares the
	// outputs bit for bit.
	run := func(name string, lens []int, op func(s [][]T)) {
		t.Helper()
		for _, atEnd := range []bool{false, true} {
			g := make([][]T, len(lens))
			for i, n := range lens {
				g[i] = pageguard.Slice[T](a, n, atEnd != (i%2 == 1))
				for j := range g[i] {
					g[i][j] = T(rng.IntN(9) - 4) // exact in any order
				}
			}
			ref := make([][]T, len(g))
			for i := range g {
				ref[i] = slices.Clone(g[i])
			}
			op(g)
			restore := kernels.SetISA(kernels.Generic)
			op(ref)
			restore()
			out := len(g) - 1
			if i := diffBits(g[out], ref[out]); i >= 0 {
				t.Fatalf("%T %s atEnd=%v: element %d is %v, generic level %v", g[out][0], name, atEnd, i, g[out][i], ref[out][i])
			}
		}
	}
	w := Width[T]()
	for _, sh := range []struct{ m, n, k, pad int }{
		{1, 1, 1, 0}, {4, 5, 16, 1}, {5, 3, 33, 2}, {9, 10, 40, 3}, {3, 2, 64, 0}, {7, 4, 17, 5}, {2, 11, 100, 7}, {17, 13, 31, 1},
	} {
		m, n, k, p := sh.m, sh.n, sh.k, sh.pad
		lda, ldb, ldc := k+p, k+2*p+1, n+p
		run(fmt.Sprintf("MulAddNT %+v", sh), []int{(m-1)*lda + k, (n-1)*ldb + k, (m-1)*ldc + n}, func(s [][]T) {
			MulAddNT(m, n, k, s[0], lda, s[1], ldb, s[2], ldc)
		})
		// MulAddTN: A k×m, B k×n, C m×n
		ta, tb := m+p, n+p+1
		run(fmt.Sprintf("MulAddTN %+v", sh), []int{(k-1)*ta + m, (k-1)*tb + n, (m-1)*ldc + n}, func(s [][]T) {
			MulAddTN(m, n, k, s[0], ta, s[1], tb, s[2], ldc)
		})
		run(fmt.Sprintf("MulTN %+v", sh), []int{(k-1)*ta + m, (k-1)*tb + n, (m-1)*ldc + n}, func(s [][]T) {
			MulTN(m, n, k, s[0], ta, s[1], tb, s[2], ldc)
		})
		run(fmt.Sprintf("Transpose %+v", sh), []int{(m-1)*lda + k, (k-1)*(m+p) + m}, func(s [][]T) {
			Transpose(m, k, s[0], lda, s[1], m+p)
		})
		// MulAdd: C m×nn with nn a multiple of the vector width, A as the
		// scores read it (rows of k) and as the gradient does (columns)
		nn := min(MaxCols, (n+w-1)/w*w)
		run(fmt.Sprintf("MulAdd scores %+v", sh), []int{(m-1)*lda + k, (k-1)*(nn+p) + nn, (m-1)*(nn+p) + nn}, func(s [][]T) {
			MulAdd(m, nn, k, s[0], lda, 1, s[1], nn+p, s[2], nn+p)
		})
		run(fmt.Sprintf("MulAdd gradient %+v", sh), []int{(k-1)*(m+p) + m, (k-1)*(nn+p) + nn, (m-1)*(nn+p) + nn}, func(s [][]T) {
			MulAdd(m, nn, k, s[0], 1, m+p, s[1], nn+p, s[2], nn+p)
		})
	}
}
