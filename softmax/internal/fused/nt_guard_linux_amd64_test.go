//go:build amd64 && gc && !purego

package fused

import (
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nnkern/nnkern/kernels"
)

// guarded returns a slice of n elements that fills one page exactly
// (n·size = the page size), between two pages that fault on any access,
// and a function that unmaps them.
func guarded[T kernels.Float](t *testing.T) ([]T, func()) {
	t.Helper()
	ps := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 3*ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	if err := unix.Mprotect(mem[:ps], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := unix.Mprotect(mem[2*ps:], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	var z T
	n := ps / int(unsafe.Sizeof(z))
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[ps])), n), func() { unix.Munmap(mem) }
}

// TestMulAddNTPageBounds: on every level, MulAddNT reads nothing outside
// the rows of A and B, even across page boundaries: A and B fill a page
// each between pages that fault on access, their first row starting on
// the page (and on a line) and their last row ending on its last byte,
// with row strides that put the rows between at every offset from a line
// (the realigning AVX-512 kernels read whole lines: each must hold an
// element of the row). The results are compared with the documented
// order bit for bit.
func TestMulAddNTPageBounds(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			testNTPageBounds[float32](t)
			testNTPageBounds[float64](t)
		})
	}
}

func testNTPageBounds[T kernels.Float](t *testing.T) {
	abuf, freeA := guarded[T](t)
	defer freeA()
	bbuf, freeB := guarded[T](t)
	defer freeB()
	for i := range abuf {
		abuf[i] = T(i%13) - 6
	}
	for i := range bbuf {
		bbuf[i] = T(i%7) - 3
	}
	for _, sh := range []struct{ m, n, k, lda, ldb int }{
		{4, 5, 16, 17, 16}, {5, 3, 33, 35, 33}, {9, 10, 40, 41, 40}, {3, 2, 64, 64, 65}, {7, 4, 17, 19, 21}, {2, 1, 100, 103, 100},
	} {
		for _, end := range []bool{false, true} {
			// A at the page start, or its last row ending on the page's
			// last element; B the other way round
			na, nb := (sh.m-1)*sh.lda+sh.k, (sh.n-1)*sh.ldb+sh.k
			a, b := abuf[:na], bbuf[len(bbuf)-nb:]
			if end {
				a, b = abuf[len(abuf)-na:], bbuf[:nb]
			}
			c := make([]T, sh.m*sh.n)
			want := slices.Clone(c)
			MulAddNT(sh.m, sh.n, sh.k, a, sh.lda, b, sh.ldb, c, sh.n)
			refMulAddNT(sh.m, sh.n, sh.k, a, sh.lda, b, sh.ldb, want, sh.n)
			for i := range c {
				if c[i] != want[i] { // small integers: exact in every order
					t.Fatalf("%T %+v end=%v: c[%d] = %v, want %v", c[0], sh, end, i, c[i], want[i])
				}
			}
		}
	}
}
