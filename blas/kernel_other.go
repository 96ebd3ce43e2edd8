//go:build !amd64 || !gc || purego

package blas

import "github.com/nnkern/nnkern/kernels"

// microKernel returns the portable Go micro-kernel (no assembly in this
// build).
func microKernel[T float](kernels.Level) kernelFunc[T] { return goKernel[T]() }
