package blas

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/internal/envcheck"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as
// transA/transB say: op(A) is m×k, op(B) is k×n and C is m×n. Any strides
// >= Cols are allowed. With beta == 0, C is not read (NaNs in C are
// overwritten), as BLAS defines; with alpha == 0 or k == 0, A and B are not
// read. It panics, naming the shapes, if they do not conform or a matrix is
// malformed (see Matrix.Check), or if C shares an element with A or B.
//
// The work is done by the current backend (see Use): the native one by
// default.
func Gemm[T float](transA, transB bool, alpha T, a, b Matrix[T], beta T, c Matrix[T]) {
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
	if err := a.Check(); err != nil {
		panic(fmt.Sprintf("blas.Gemm: A: %v", err))
	}
	if err := b.Check(); err != nil {
		panic(fmt.Sprintf("blas.Gemm: B: %v", err))
	}
	if err := c.Check(); err != nil {
		panic(fmt.Sprintf("blas.Gemm: C: %v", err))
	}
	if Overlaps(c, a) || Overlaps(c, b) {
		panic("blas.Gemm: C overlaps A or B (results would depend on the order of the computation)")
	}
	if m == 0 || n == 0 {
		return
	}
	be := selected()
	if k == 0 || alpha == 0 {
		// Every backend agrees on this; handling it here also keeps zero
		// strides (of empty A, B) away from the libraries.
		scaleC(m, n, beta, c.Data, c.Stride)
		return
	}
	if dtype.Is32[T]() {
		be.sgemm(transA, transB, m, n, k, f32(alpha), asF32(a.Data), a.Stride, asF32(b.Data), b.Stride, f32(beta), asF32(c.Data), c.Stride)
		return
	}
	be.dgemm(transA, transB, m, n, k, f64(alpha), asF64(a.Data), a.Stride, asF64(b.Data), b.Stride, f64(beta), asF64(c.Data), c.Stride)
}

// The conversions below are no-ops: they are only called with T == float32
// (resp. float64), checked by the caller through dtype.Is32.

func asF32[T float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func asF64[T float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f32[T float](x T) float32 { return *(*float32)(unsafe.Pointer(&x)) }
func f64[T float](x T) float64 { return *(*float64)(unsafe.Pointer(&x)) }

// backend is one implementation of the routines behind the switch. Shapes
// are checked and non-degenerate (m, n, k > 0, alpha != 0) when called.
type backend interface {
	name() string
	sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	// Level 1 on contiguous vectors (len(x) == len(y) > 0, alpha != 0).
	saxpy(alpha float32, x, y []float32)
	daxpy(alpha float64, x, y []float64)
	sscal(alpha float32, x []float32)
	dscal(alpha float64, x []float64)
	// y = alpha·op(A)·x + beta·y for an m×n row-major A (m, n > 0,
	// alpha != 0; y is already zero when beta == 0).
	sgemv(tA bool, m, n int, alpha float32, a []float32, lda int, x []float32, beta float32, y []float32)
	dgemv(tA bool, m, n int, alpha float64, a []float64, lda int, x []float64, beta float64, y []float64)
}

// The native backend.
type nativeBackend struct{}

func (nativeBackend) name() string { return "native" }
func (nativeBackend) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nativeGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
func (nativeBackend) dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	nativeGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var (
	// backends are the compiled-in backends: native here, gonum and
	// openblas (with its build tag) add themselves from their files' init
	// functions, in any order.
	backends = map[string]backend{"native": nativeBackend{}}
	// current is the selected backend; it is set by applyEnv, through
	// selected, before anything reads it.
	current atomic.Pointer[backendBox]
	envOnce sync.Once
	envErr  error
)

// backendBox lets an interface value live in an atomic.Pointer.
type backendBox struct{ backend }

func register(b backend) { backends[b.name()] = b }

// selected returns the backend the routines run on. Its first call (or
// Use's, Current's or EnvError's, whichever comes first) applies
// NNKERN_BLAS: package initialization is over by then, so every backend
// of the build has registered itself, whatever the order of the files.
func selected() *backendBox {
	envOnce.Do(applyEnv)
	return current.Load()
}

// applyEnv selects the native backend, then the one NNKERN_BLAS names, if
// any, recording a bad name for EnvError. It runs once, from envOnce (and
// from the tests).
func applyEnv() {
	current.Store(&backendBox{nativeBackend{}})
	if s, ok := os.LookupEnv("NNKERN_BLAS"); ok && s != "" {
		if err := use(s); err != nil {
			envErr = fmt.Errorf("NNKERN_BLAS: %w", err)
		}
	}
}

// Use selects the backend Gemm (and the other routines of this package)
// run on: one of Backends(). It returns an error naming the choices for an
// unknown or not compiled-in name. It must not be called while routines of
// this package run concurrently.
func Use(name string) error {
	envOnce.Do(applyEnv) // NNKERN_BLAS first, so that a program's choice wins
	return use(name)
}

func use(name string) error {
	b, ok := backends[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return fmt.Errorf("blas: unknown or not compiled-in backend %q (have %s)", name, strings.Join(Backends(), ", "))
	}
	current.Store(&backendBox{b})
	return nil
}

// Backends returns the names of the compiled-in backends, sorted: always
// "gonum" and "native", and "openblas" in builds with the openblas tag.
func Backends() []string {
	names := make([]string, 0, len(backends))
	for n := range backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Current returns the name of the selected backend.
func Current() string { return selected().name() }

// EnvError reports a bad NNKERN_BLAS value (an unknown or not compiled-in
// backend); the native backend is used then.
//
// Deprecated: kernels.EnvError reports this error together with those of
// every other NNKERN_* variable; call it instead.
func EnvError() error {
	envOnce.Do(applyEnv)
	return envErr
}

// NNKERN_BLAS is read on first use, so its check, run by kernels.EnvError
// (after package initialization, when every backend has registered),
// applies it first.
func init() { envcheck.Register("NNKERN_BLAS", EnvError) }
