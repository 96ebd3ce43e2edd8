//go:build !amd64 || !gc || purego

package fused

import "github.com/nnkern/nnkern/kernels"

// mulAddAsm reports false: this build has no assembly panels.
func mulAddAsm[T kernels.Float](m, nv, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) bool {
	return false
}

// mulAddPackedAsm reports false: this build has no assembly kernels.
func mulAddPackedAsm[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) bool {
	return false
}
