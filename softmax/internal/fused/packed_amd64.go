//go:build amd64 && gc && !purego

package fused

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// packedMasks64[4-tail:][:4] and packedMasks32[8-tail:][:8] are the AVX2
// lane masks of the first tail values of p of a group.
var (
	packedMasks64 = [8]int64{-1, -1, -1, -1}
	packedMasks32 = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}
)

// packedRows and packedRows512 are the largest row blockings of the
// AVX2 and AVX-512 packed kernels for q = 0, 1 (see _gen).
var (
	packedRows    = [2]int{6, 4}
	packedRows512 = [2]int{12, 12}
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
// kernels.AVX512) AVX-512 kernels and reports true. Shapes are checked,
// m, k >= 1. Each kernel call computes its rows whole (all of k, in
// MulAddPacked's order).
func mulAddPackedAsm[T kernels.Float](m, c, k int, a []T, lda int, b []T, s []T, lds int) bool {
	if trace512 && kernels.ISA() >= kernels.AVX512 {
		calls512[5]++
	}
	G := packedGroup[T]()
	q, r := c/8, c%8
	ng, tail := k/G, k%G
	size := dtype.Size[T]()
	n8, _ := packedParts[T](k, c)
	pa, pb, ps := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&s[0])
	pbi := unsafe.Pointer(&b[n8])
	row := func(p unsafe.Pointer, i, ld int) unsafe.Pointer { return unsafe.Add(p, size*i*ld) }
	if kernels.ISA() >= kernels.AVX512 {
		xmask, cmask := 1<<tail-1, 1<<r-1
		np := packedPanels(m, packedRows512[q])
		for i := range np {
			i0, i1 := i*m/np, (i+1)*m/np
			if size == 8 {
				packedF64AVX512[q][i1-i0-1]((*float64)(row(ps, i0, lds)), lds, (*float64)(row(pa, i0, lda)), lda, (*float64)(pb), (*float64)(pbi), ng, tail, xmask, cmask)
			} else {
				packedF32AVX512[q][i1-i0-1]((*float32)(row(ps, i0, lds)), lds, (*float32)(row(pa, i0, lda)), lda, (*float32)(pb), (*float32)(pbi), ng, tail, xmask, cmask)
			}
		}
		return true
	}
	// The masks: 32 bytes of the tail's lanes of A, then 16 bytes of the
	// interleaved columns of S (the second one off for r = 1).
	var m64 [6]int64
	var m32 [12]int32
	if size == 8 {
		copy(m64[:4], packedMasks64[4-tail:])
		m64[4], m64[5] = -1, int64(1-r)
	} else {
		copy(m32[:8], packedMasks32[8-tail:])
		m32[8], m32[9] = -1, int32(1-r)
	}
	np := packedPanels(m, packedRows[q])
	for i := range np {
		i0, i1 := i*m/np, (i+1)*m/np
		if size == 8 {
			packedF64[q][i1-i0-1]((*float64)(row(ps, i0, lds)), lds, (*float64)(row(pa, i0, lda)), lda, (*float64)(pb), (*float64)(pbi), ng, tail, &m64[0])
		} else {
			packedF32[q][i1-i0-1]((*float32)(row(ps, i0, lds)), lds, (*float32)(row(pa, i0, lda)), lda, (*float32)(pb), (*float32)(pbi), ng, tail, &m32[0])
		}
	}
	return true
}
