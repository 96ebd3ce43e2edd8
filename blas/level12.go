package blas

import (
	"fmt"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// Axpy computes Y += alpha·X element by element for two matrices of the
// same shape (any strides). It panics, naming the shapes, if they differ or
// a matrix is malformed (see Matrix.Check) or Y shares an element with X
// (X and Y may be the same view: then Y = (1+alpha)·Y). The work
// is done by the current backend (see Use).
func Axpy[T float](alpha T, x, y Matrix[T]) {
	if x.Rows != y.Rows || x.Cols != y.Cols {
		panic(fmt.Sprintf("blas.Axpy: shape mismatch: X %d×%d, Y %d×%d", x.Rows, x.Cols, y.Rows, y.Cols))
	}
	checkMat("Axpy", "X", x)
	checkMat("Axpy", "Y", y)
	if Overlaps(x, y) && !(x.Stride == y.Stride && &x.Data[0] == &y.Data[0]) {
		panic("blas.Axpy: Y overlaps X (other than being the same view)")
	}
	if alpha == 0 || x.Rows == 0 || x.Cols == 0 {
		return
	}
	be := selected()
	n := x.Cols
	for i := 0; i < x.Rows; i++ {
		xr, yr := x.Data[i*x.Stride:i*x.Stride+n], y.Data[i*y.Stride:i*y.Stride+n]
		if dtype.Is32[T]() {
			be.saxpy(f32(alpha), asF32(xr), asF32(yr))
		} else {
			be.daxpy(f64(alpha), asF64(xr), asF64(yr))
		}
	}
}

// Scal computes X = alpha·X. With alpha == 0, X is set to zero without
// being read (NaNs are overwritten, like Gemm's C with beta == 0), on
// every backend. It panics if X is malformed.
func Scal[T float](alpha T, x Matrix[T]) {
	checkMat("Scal", "X", x)
	if x.Rows == 0 || x.Cols == 0 {
		return
	}
	if alpha == 0 {
		scaleC(x.Rows, x.Cols, 0, x.Data, x.Stride)
		return
	}
	be := selected()
	n := x.Cols
	for i := 0; i < x.Rows; i++ {
		xr := x.Data[i*x.Stride : i*x.Stride+n]
		if dtype.Is32[T]() {
			be.sscal(f32(alpha), asF32(xr))
		} else {
			be.dscal(f64(alpha), asF64(xr))
		}
	}
}

// Gemv computes y = alpha·op(A)·x + beta·y, where op(A) is A or Aᵀ as
// transA says: op(A) is r×c, len(x) == c and len(y) == r. With beta == 0,
// y is not read (NaNs are overwritten); with alpha == 0, A and x are not
// read. It panics, naming the sizes, if they do not conform or A is
// malformed. y must not overlap A or x. The work is done by the current
// backend (see Use).
func Gemv[T float](transA bool, alpha T, a Matrix[T], x []T, beta T, y []T) {
	r, c := a.Rows, a.Cols
	if transA {
		r, c = c, r
	}
	if len(x) != c || len(y) != r {
		panic(fmt.Sprintf("blas.Gemv: shape mismatch: op(A) %d×%d (transA=%v), len(x) = %d, len(y) = %d", r, c, transA, len(x), len(y)))
	}
	checkMat("Gemv", "A", a)
	if r == 0 {
		return
	}
	if alpha == 0 || c == 0 {
		scaleC(1, r, beta, y, r)
		return
	}
	if beta == 0 {
		clear(y)
	}
	be := selected()
	if dtype.Is32[T]() {
		be.sgemv(transA, a.Rows, a.Cols, f32(alpha), asF32(a.Data), a.Stride, asF32(x), f32(beta), asF32(y))
		return
	}
	be.dgemv(transA, a.Rows, a.Cols, f64(alpha), asF64(a.Data), a.Stride, asF64(x), f64(beta), asF64(y))
}

func checkMat[T float](fn, name string, m Matrix[T]) {
	if err := m.Check(); err != nil {
		panic(fmt.Sprintf("blas.%s: %s: %v", fn, name, err))
	}
}

// The native backend's level-1/2 routines run on the kernels package
// (SIMD where the ISA level has it).

func (nativeBackend) saxpy(alpha float32, x, y []float32) { kernels.Axpy(alpha, x, y) }
func (nativeBackend) daxpy(alpha float64, x, y []float64) { kernels.Axpy(alpha, x, y) }
func (nativeBackend) sscal(alpha float32, x []float32)    { kernels.Scale(alpha, x) }
func (nativeBackend) dscal(alpha float64, x []float64)    { kernels.Scale(alpha, x) }
func (nativeBackend) sgemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32) {
	nativeGemv(tA, m, n, alpha, a, lda, x, beta, y)
}
func (nativeBackend) dgemv(tA bool, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64) {
	nativeGemv(tA, m, n, alpha, a, lda, x, beta, y)
}

// nativeGemv is Gemv on raw operands (A is m×n with stride lda, m, n > 0,
// alpha != 0; y already cleared when beta == 0): a dot product per row of A
// without transposition, updating y as Gemm's micro-kernels update C
// (y = fma(alpha, dot, beta·y), beta·y rounded first, or alpha·dot); an
// axpy per row of A with it (kernels.Axpy rounds each product, then adds).
// Plain x*y + z would be fused or not depending on GOAMD64.
func nativeGemv[T float](tA bool, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
	if !tA {
		for i := 0; i < m; i++ {
			d := kernels.Dot(a[i*lda:i*lda+n], x)
			if beta == 0 {
				y[i] = T(alpha * d)
			} else {
				y[i] = kernels.FMA(alpha, d, T(beta*y[i]))
			}
		}
		return
	}
	if beta != 1 && beta != 0 {
		kernels.Scale(beta, y)
	}
	for i := 0; i < m; i++ {
		kernels.Axpy(alpha*x[i], a[i*lda:i*lda+n], y)
	}
}
