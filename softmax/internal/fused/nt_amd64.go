//go:build amd64 && gc && !purego

package fused

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// ntMask32[16-r:] and ntMask64[8-r:] begin with the lane masks of the
// first r lanes of MulAddNT's L lanes (two YMM vectors), for the AVX2
// tail step.
var (
	ntMask32 = [32]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}
	ntMask64 = [16]int64{-1, -1, -1, -1, -1, -1, -1, -1}
)

// ntIota32 and ntIota64 are the index tables of the realigning AVX-512
// kernels (ntF32AVX512U, ntF64AVX512U): 0, 1, ..., 2L−1, of which a row
// that starts o bytes past the line of its start minus one element, o in
// (0, 64] (64 for a row on a line), permutes by the L entries from o
// bytes in (see _gen genNTU).
var (
	ntIota32 = [32]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}
	ntIota64 = [16]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
)

// ntMaxR × ntMaxC and ntMaxR512 × ntMaxC512 are the register blockings
// of the AVX2 and AVX-512 NT kernels, rows of A × rows of B (see _gen).
const (
	ntMaxR, ntMaxC       = 2, 3
	ntMaxR512, ntMaxC512 = 4, 5
)

// mulAddNTAsm runs MulAddNT through the AVX2+FMA or (at kernels.AVX512)
// AVX-512 kernels and reports true. Shapes are checked, m, n, k >= 1.
// Each kernel call computes a block of C whole (all of k, in MulAddNT's
// order), so the blocks split only rows and columns: rows of A in blocks
// of the kernels' maxR, outermost (a block's rows of A stay in L1 and L2
// while the column blocks, nearly equal blocks of at most maxC rows of B,
// go by; B, C×D, stays in L2 for all row blocks).
func mulAddNTAsm[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) bool {
	size := dtype.Size[T]()
	L := NTLanes[T]()
	nk, rem := k/L, k%L
	is512 := kernels.ISA() >= kernels.AVX512
	maxR, maxC := ntMaxR, ntMaxC
	if is512 {
		if trace512 {
			calls512[2]++
		}
		maxR, maxC = ntMaxR512, ntMaxC512
	}
	tail := 1<<rem - 1
	var m32 *int32
	var m64 *int64
	if rem > 0 && size == 8 {
		m64 = &ntMask64[8-rem]
	} else if rem > 0 {
		m32 = &ntMask32[16-rem]
	}
	nb := (n + maxC - 1) / maxC
	pa, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	for i0 := 0; i0 < m; i0 += maxR {
		r := min(maxR, m-i0)
		ai := unsafe.Add(pa, size*i0*lda)
		// At AVX-512, a row block with a row off a 64-byte line runs the
		// realigning kernels (the same bits; see _gen genNTU), unless k is
		// shorter than one vector: then the masked tail step is all there
		// is, the same in both.
		realign := is512 && nk > 0 && (uintptr(ai)&63 != 0 || r > 1 && size*lda&63 != 0)
		if realign && trace512 {
			calls512[4]++
		}
		for bj := 0; bj < nb; bj++ {
			j0, j1 := n*bj/nb, n*(bj+1)/nb
			nc := j1 - j0
			ci := unsafe.Add(pc, size*(i0*ldc+j0))
			bp := unsafe.Add(pb, size*j0*ldb)
			switch {
			case realign && size == 8:
				ntF64AVX512U[r-1][nc-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bp), ldb, nk, tail, &ntIota64[0])
			case realign:
				ntF32AVX512U[r-1][nc-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bp), ldb, nk, tail, &ntIota32[0])
			case is512 && size == 8:
				ntF64AVX512[r-1][nc-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bp), ldb, nk, tail)
			case is512:
				ntF32AVX512[r-1][nc-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bp), ldb, nk, tail)
			case size == 8:
				ntF64[r-1][nc-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bp), ldb, nk, m64)
			default:
				ntF32[r-1][nc-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bp), ldb, nk, m32)
			}
		}
	}
	return true
}
