//go:build amd64 && gc && !purego

package fused

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// packedMasks[4-tail:][:4] is the AVX2 lane mask of the first tail of 4
// values of p.
var packedMasks = [8]int64{-1, -1, -1, -1, 0, 0, 0, 0}

// packedRows and packedRows512 are the largest row blockings of the
// AVX2 and AVX-512 packed kernels (see _gen).
var (
	packedRows    = [2]int{6, 3}
	packedRows512 = 12
)

// packedPanels returns the number np = ceil(m/most) of panels that m rows
// are cut into; panel i has rows [i·m/np, (i+1)·m/np), as equal as they
// can be (13 rows at most 12 as 6 + 7, not 12 + 1, whose 1-row panel
// reads all of W for one row). A row is computed whole in one panel, so
// the cut does not change a bit.
func packedPanels(m, most int) (np int) {
	return (m + most - 1) / most
}

// mulAddPackedAsm runs MulAddPacked through the AVX2+FMA or (at
// kernels.AVX512) AVX-512 kernels for float64 and reports true; for
// float32 it reports false. Shapes are checked, m, k >= 1. Each kernel
// call computes its rows whole (all of k, in MulAddPacked's order).
func mulAddPackedAsm[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) bool {
	if dtype.Is32[T]() {
		return false
	}
	if trace512 && kernels.ISA() >= kernels.AVX512 {
		calls512[5]++
	}
	q, r := c/8, c%8
	ng, tail := k/packedGroup, k%packedGroup
	pa := unsafe.Pointer(&a[0])
	pb := (*float64)(unsafe.Pointer(&b[0]))
	ps := unsafe.Pointer(&s[0])
	row := func(p unsafe.Pointer, i, ld int) *float64 { return (*float64)(unsafe.Add(p, 8*i*ld)) }
	if kernels.ISA() >= kernels.AVX512 {
		xmask, cmask := 1<<tail-1, 1<<r-1
		np := packedPanels(m, packedRows512)
		for i := range np {
			i0, i1 := i*m/np, (i+1)*m/np
			packedF64AVX512[q][i1-i0-1](row(ps, i0, lds), lds, row(pa, i0, lda), lda, pb, ng, tail, xmask, cmask)
		}
		return true
	}
	// masks[0:4]: the tail's lanes of A; masks[4:6]: the interleaved
	// columns of S (the second one off for r = 1).
	var masks [6]int64
	copy(masks[:4], packedMasks[4-tail:])
	masks[4] = -1
	if r == 2 {
		masks[5] = -1
	}
	np := packedPanels(m, packedRows[q])
	for i := range np {
		i0, i1 := i*m/np, (i+1)*m/np
		packedF64[q][i1-i0-1](row(ps, i0, lds), lds, row(pa, i0, lda), lda, pb, ng, tail, &masks[0])
	}
	return true
}
