package gonumblas

import "gonum.org/v1/gonum/blas"

// Panic strings of gonum's blas/gonum (its errors.go), for the checks
// this package does itself: gonum's tests compare them.
const (
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badTranspose = "blas: illegal transpose"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortX       = "blas: insufficient length of x"
	shortY       = "blas: insufficient length of y"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// checkGemm panics as gonum's Dgemm does, in the same order, on bad
// arguments (la, lb, lc are the slices' lengths).
func checkGemm(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if tA != blas.NoTrans && tA != blas.Trans && tA != blas.ConjTrans {
		panic(badTranspose)
	}
	if tB != blas.NoTrans && tB != blas.Trans && tB != blas.ConjTrans {
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aT, bT := tA != blas.NoTrans, tB != blas.NoTrans
	if aT {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bT {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	if aT {
		if la < (k-1)*lda+m {
			panic(shortA)
		}
	} else if la < (m-1)*lda+k {
		panic(shortA)
	}
	if bT {
		if lb < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if lb < (k-1)*ldb+n {
		panic(shortB)
	}
	if lc < (m-1)*ldc+n {
		panic(shortC)
	}
}
