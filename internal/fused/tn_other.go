//go:build !amd64 || !gc || purego

package fused

import "github.com/nnkern/nnkern/kernels"

// mulAddTNAsm does nothing in this build (no assembly): MulAddTN runs in
// plain Go.
func mulAddTNAsm[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) int {
	return 0
}
