//go:build !amd64 || !gc || purego

package blas

import "github.com/nnkern/nnkern/kernels"

// microKernel returns the portable Go micro-kernel, of nr columns or nr/2
// if half (no assembly in this build).
func microKernel[T float](_ kernels.Level, half bool) kernelFunc[T] { return goKernel[T](half) }

// widthAt is 1: this build has only the Go kernel, nrOf[T]() wide.
func widthAt(kernels.Level) int { return 1 }
