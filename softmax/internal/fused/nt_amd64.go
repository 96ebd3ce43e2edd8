//go:build amd64 && gc && !purego

package fused

import (
	"sync"
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

// ntMaxR × ntMaxC and ntMaxR512 × ntMaxC512 are the register blockings
// of the AVX2 and AVX-512 NT kernels, rows of A × rows of B (see _gen).
const (
	ntMaxR, ntMaxC       = 2, 3
	ntMaxR512, ntMaxC512 = 4, 5
)

// The NT kernels' flags (see _gen): start from the saved lane sums, and
// finish (reduce and add to C) rather than save them.
const (
	ntLoad  = 1
	ntFinal = 2
)

// ntChunkBytes bounds the bytes of B (n rows × a chunk of k) that all row
// blocks of a group go through before the next chunk, so that the second
// and later row blocks read it from L1: without the chunks every row block
// reads all of B (C×D: 123 KB in float32 for the loss) from L2, more
// traffic than the FMA units leave time for. ntStates bounds the lane-sum
// states (64 bytes each) a row group keeps between chunks.
var ntChunkBytes = 20 << 10

const ntStates = 128

// ntStatePool holds the buffers of ntStates lane-sum states.
var ntStatePool = sync.Pool{New: func() any { return new([ntStates * 64]byte) }}

// mulAddNTAsm runs MulAddNT through the AVX2+FMA or (at kernels.AVX512)
// AVX-512 kernels and reports true. Shapes are checked, m, n, k >= 1.
//
// It keeps MulAddNT's order: k is cut into chunks of whole steps of L
// values of p (so each starts at lane 0), and a kernel call sums its
// chunk onto the lane sums the previous chunk's call saved, in the same
// order as one call over all of k; the last chunk's call reduces them and
// adds them to C. Rows of C go in groups of whole row blocks whose states
// fit ntStates; within a group and chunk, rows in blocks of the kernels'
// maxR, outermost (a block's chunk of A stays in L1 while the column
// blocks, nearly equal blocks of at most maxC rows of B, go by).
func mulAddNTAsm[T kernels.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) bool {
	size := dtype.Size[T]()
	L := NTLanes[T]()
	is512 := kernels.ISA() >= kernels.AVX512
	maxR, maxC := ntMaxR, ntMaxC
	if is512 {
		if trace512 {
			calls512[2]++
		}
		maxR, maxC = ntMaxR512, ntMaxC512
	}
	rem := k % L
	tail := 1<<rem - 1
	var m32 *int32
	var m64 *int64
	if rem > 0 && size == 8 {
		m64 = &ntMask64[8-rem]
	} else if rem > 0 {
		m32 = &ntMask32[16-rem]
	}
	kc := max(L, ntChunkBytes/(n*size)/L*L)
	group := max(maxR, ntStates/n/maxR*maxR)
	var st []T
	if k > kc {
		if group*n > ntStates {
			st = make([]T, group*n*L)
		} else {
			// (a local array would escape: the kernels are called
			// through func values)
			buf := ntStatePool.Get().(*[ntStates * 64]byte)
			defer ntStatePool.Put(buf)
			st = unsafe.Slice((*T)(unsafe.Pointer(buf)), ntStates*L)
		}
	}
	nb := (n + maxC - 1) / maxC
	pa, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	for g0 := 0; g0 < m; g0 += group {
		g1 := min(m, g0+group)
		for p0 := 0; p0 < k; p0 += kc {
			kp := min(kc, k-p0)
			flags := 0
			if p0 > 0 {
				flags |= ntLoad
			}
			nk, tl, t32, t64 := kp/L, 0, (*int32)(nil), (*int64)(nil)
			if p0+kp == k {
				flags |= ntFinal
				tl, t32, t64 = tail, m32, m64
			}
			for i0 := g0; i0 < g1; i0 += maxR {
				r := min(maxR, g1-i0)
				ai := unsafe.Add(pa, size*(i0*lda+p0))
				for bj := 0; bj < nb; bj++ {
					j0, j1 := n*bj/nb, n*(bj+1)/nb
					nc := j1 - j0
					ci := unsafe.Add(pc, size*(i0*ldc+j0))
					bp := unsafe.Add(pb, size*(j0*ldb+p0))
					var sp unsafe.Pointer // unused when k fits one chunk
					if k > kc {
						sp = unsafe.Pointer(&st[((i0-g0)*n+r*j0)*L])
					}
					switch {
					case is512 && size == 8:
						ntF64AVX512[r-1][nc-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bp), ldb, nk, tl, (*float64)(sp), flags)
					case is512:
						ntF32AVX512[r-1][nc-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bp), ldb, nk, tl, (*float32)(sp), flags)
					case size == 8:
						ntF64[r-1][nc-1]((*float64)(ci), ldc, (*float64)(ai), lda, (*float64)(bp), ldb, nk, t64, (*float64)(sp), flags)
					default:
						ntF32[r-1][nc-1]((*float32)(ci), ldc, (*float32)(ai), lda, (*float32)(bp), ldb, nk, t32, (*float32)(sp), flags)
					}
				}
			}
		}
	}
	return true
}
