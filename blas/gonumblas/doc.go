// Package gonumblas puts nnkern's GEMM and SIMD kernels behind gonum's BLAS
// interface, so that gonum/mat, gonum/lapack and everything built on them
// run their matrix products on nnkern:
//
//	blas64.Use(gonumblas.Implementation{}) // gonum.org/v1/gonum/blas/blas64
//	blas32.Use(gonumblas.Implementation{}) // gonum.org/v1/gonum/blas/blas32
//	var c mat.Dense
//	c.Mul(a, b) // on nnkern's GEMM
//
// Implementation satisfies gonum's blas.Float64 and blas.Float32. It
// overrides Dgemm/Sgemm (on package github.com/nnkern/nnkern/blas's Gemm),
// Dgemv/Sgemv (on its Gemv), Ddot/Sdot, Daxpy/Saxpy and Dscal/Sscal (on
// package kernels' Dot, Axpy and Scale); every other routine is gonum's
// pure-Go gonum.Implementation, which it embeds. Level-1/2 calls with an
// increment other than 1 are gonum's too.
//
// The conversion is free: gonum's row-major (data, ld) operands are nnkern
// Matrix views (blas.Matrix has blas64.General's layout: Rows, Cols,
// Stride, Data), so nothing is copied.
//
// Semantics are gonum's (and reference BLAS's): the same argument checks
// in the same order with the same panic strings; m, n or k zero return
// early; with beta == 0, C (or y) is overwritten without being read, so
// NaNs in it do not propagate; with alpha == 0, A and B (or A and x) are
// not read and C = beta·C. (gonum's own Dgemm still multiplies A's
// elements by alpha == 0, so a NaN in A reaches C there; reference BLAS
// and this package do not read A.) C must not share memory with A or B, as BLAS requires;
// a call where it does (which nnkern's Gemm refuses) is passed to gonum's
// Dgemm, so the adapter never panics where gonum would not.
//
// Backend: Dgemm, Sgemm, Dgemv and Sgemv run on the backend package blas
// has selected (blas.Use, NNKERN_BLAS): the native one unless the program
// or the environment chose another. Ddot, Daxpy and Dscal (and their
// float32 forms) always run on nnkern's kernels. Numerics follow nnkern's
// contract on the native backend: results are bit-identical for every ISA
// level and GOMAXPROCS; they are not bit-identical to gonum's pure Go (a
// different summation order), only within the usual k·eps error bound.
package gonumblas
