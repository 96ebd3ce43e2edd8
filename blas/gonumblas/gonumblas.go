package gonumblas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	nnblas "github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// Implementation is nnkern behind gonum's blas.Float64 and blas.Float32
// interfaces (see the package documentation for what runs where). The
// zero value is ready to use; it has no state.
type Implementation struct {
	// gonum.Implementation provides every routine not overridden here.
	gonum.Implementation
}

var (
	_ blas.Float64 = Implementation{}
	_ blas.Float32 = Implementation{}
)

// Dgemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as
// tA, tB say (blas.ConjTrans is blas.Trans), op(A) is m×k, op(B) is k×n and
// C is m×n, all row-major with leading dimensions lda, ldb, ldc. With
// beta == 0, C is not read; with alpha == 0 or k == 0, A and B are not
// read. It panics as gonum's Dgemm does on bad arguments.
func (impl Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		impl.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// Sgemm is Dgemm for float32.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// gemm does Dgemm/Sgemm's checks and work, and returns false (having
// written nothing) where C shares memory with A or B in a way nnkern's Gemm
// refuses: the caller passes those calls to gonum.
func gemm[T kernels.Float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) bool {
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return true
	}
	if alpha == 0 || k == 0 {
		scaleRows(m, n, beta, c, ldc)
		return true
	}
	aT, bT := tA != blas.NoTrans, tB != blas.NoTrans
	am := view(a, m, k, lda, aT)
	bm := view(b, k, n, ldb, bT)
	cm := view(c, m, n, ldc, false)
	if nnblas.Overlaps(cm, am) || nnblas.Overlaps(cm, bm) {
		return false
	}
	nnblas.Gemm(aT, bT, alpha, am, bm, beta, cm)
	return true
}

// view returns the Matrix of an r×c operand stored with leading dimension
// ld (c×r if trans). r, c > 0 and data is long enough (checked).
func view[T kernels.Float](data []T, r, c, ld int, trans bool) nnblas.Matrix[T] {
	if trans {
		r, c = c, r
	}
	return nnblas.Matrix[T]{Rows: r, Cols: c, Stride: ld, Data: data[:(r-1)*ld+c]}
}

// scaleRows sets C = beta·C, as gonum does: nothing for beta == 1, zeros
// without reading C for beta == 0.
func scaleRows[T kernels.Float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Dgemv computes y = alpha·A·x + beta·y (tA == blas.NoTrans) or
// y = alpha·Aᵀ·x + beta·y, for an m×n row-major A. With beta == 0, y is not
// read; with alpha == 0, A and x are not read. Calls with incX or incY other
// than 1 are gonum's. It panics as gonum's Dgemv does on bad arguments.
func (impl Implementation) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	if incX != 1 || incY != 1 {
		impl.Implementation.Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	gemv(tA, m, n, alpha, a, lda, x, beta, y)
}

// Sgemv is Dgemv for float32.
func (impl Implementation) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	if incX != 1 || incY != 1 {
		impl.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	gemv(tA, m, n, alpha, a, lda, x, beta, y)
}

// gemv is Dgemv/Sgemv with unit increments: gonum's checks in gonum's
// order, then nnkern's Gemv.
func gemv[T kernels.Float](tA blas.Transpose, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	if tA != blas.NoTrans && tA != blas.Trans && tA != blas.ConjTrans {
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if lda < max(1, n) {
		panic(badLdA)
	}
	lenX, lenY := m, n
	if tA == blas.NoTrans {
		lenX, lenY = n, m
	}
	if m == 0 || n == 0 {
		return
	}
	if lenX > len(x) {
		panic(shortX)
	}
	if lenY > len(y) {
		panic(shortY)
	}
	if len(a) < lda*(m-1)+n {
		panic(shortA)
	}
	if alpha == 0 && beta == 1 {
		return
	}
	nnblas.Gemv(tA != blas.NoTrans, alpha, view(a, m, n, lda, false), x[:lenX], beta, y[:lenY])
}

// Ddot returns Σ x[i]·y[i] over n elements (nnkern's kernels.Dot: its
// canonical order, the same bits on every ISA level). Calls with incX or
// incY other than 1 are gonum's.
func (impl Implementation) Ddot(n int, x []float64, incX int, y []float64, incY int) float64 {
	if incX != 1 || incY != 1 || n <= 0 {
		return impl.Implementation.Ddot(n, x, incX, y, incY)
	}
	return dot(n, x, y)
}

// Sdot is Ddot for float32 (accumulated in float32, as gonum's Sdot).
func (impl Implementation) Sdot(n int, x []float32, incX int, y []float32, incY int) float32 {
	if incX != 1 || incY != 1 || n <= 0 {
		return impl.Implementation.Sdot(n, x, incX, y, incY)
	}
	return dot(n, x, y)
}

func dot[T kernels.Float](n int, x, y []T) T {
	if len(x) < n {
		panic(shortX)
	}
	if len(y) < n {
		panic(shortY)
	}
	return kernels.Dot(x[:n], y[:n])
}

// Daxpy computes y[i] += alpha·x[i] over n elements (nnkern's
// kernels.Axpy). Calls with incX or incY other than 1 are gonum's.
func (impl Implementation) Daxpy(n int, alpha float64, x []float64, incX int, y []float64, incY int) {
	if incX != 1 || incY != 1 || n <= 0 {
		impl.Implementation.Daxpy(n, alpha, x, incX, y, incY)
		return
	}
	axpy(n, alpha, x, y)
}

// Saxpy is Daxpy for float32.
func (impl Implementation) Saxpy(n int, alpha float32, x []float32, incX int, y []float32, incY int) {
	if incX != 1 || incY != 1 || n <= 0 {
		impl.Implementation.Saxpy(n, alpha, x, incX, y, incY)
		return
	}
	axpy(n, alpha, x, y)
}

func axpy[T kernels.Float](n int, alpha T, x, y []T) {
	if len(x) <= n-1 {
		panic(shortX)
	}
	if len(y) <= n-1 {
		panic(shortY)
	}
	if alpha == 0 {
		return
	}
	kernels.Axpy(alpha, x[:n], y[:n])
}

// Dscal computes x[i] *= alpha over n elements (nnkern's kernels.Scale);
// with alpha == 0 it sets them to zero without reading them, as gonum
// does. Calls with incX other than 1 are gonum's.
func (impl Implementation) Dscal(n int, alpha float64, x []float64, incX int) {
	if incX != 1 || n <= 0 {
		impl.Implementation.Dscal(n, alpha, x, incX)
		return
	}
	scal(n, alpha, x)
}

// Sscal is Dscal for float32.
func (impl Implementation) Sscal(n int, alpha float32, x []float32, incX int) {
	if incX != 1 || n <= 0 {
		impl.Implementation.Sscal(n, alpha, x, incX)
		return
	}
	scal(n, alpha, x)
}

func scal[T kernels.Float](n int, alpha T, x []T) {
	if n-1 >= len(x) {
		panic(shortX)
	}
	if alpha == 0 {
		clear(x[:n])
		return
	}
	kernels.Scale(alpha, x[:n])
}
