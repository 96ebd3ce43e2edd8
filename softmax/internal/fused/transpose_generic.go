//go:build !amd64 || !gc || purego

package fused

import "github.com/nnkern/nnkern/kernels"

// transposeAsm reports false: this build has no assembly kernels.
func transposeAsm[T kernels.Float](r, c int, src []T, lds int, dst []T, ldd int) bool {
	return false
}
