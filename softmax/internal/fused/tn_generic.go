//go:build !amd64 || !gc || purego

package fused

import "github.com/nnkern/nnkern/kernels"

// mulAddTNAsm reports false: this build has no assembly kernels.
func mulAddTNAsm[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, overwrite bool) bool {
	return false
}
