//go:build amd64 && gc && !purego

package fused

//go:generate sh -c "cd _gen && go run . -out ../muladd_amd64.s -stubs ../muladd_stub_amd64.go -pkg fused -table ../muladd_table_amd64.go"

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// With trace512 set (by a single-threaded test only), calls512 counts the
// calls of the AVX-512 paths of MulAdd, MulAddTN, MulAddNT and Transpose,
// then the MulAddNT row blocks that ran the realigning ...U kernels, and
// then the calls of MulAddPacked's AVX-512 path,
// for the test that checks that the avx512 level runs them. Unset, nothing
// is written: the fused losses call these kernels from several goroutines.
var (
	trace512 bool
	calls512 [6]int
)

// maxRows[nv-1] and maxRows512[nv-1] are the row blockings of the
// nv-vector AVX2 and AVX-512 panels (see _gen).
var (
	maxRows    = [4]int{8, 6, 4, 3}
	maxRows512 = [2]int{8, 12}
)

// mulAddAsm runs MulAdd through the AVX2+FMA panels, or at kernels.AVX512
// the AVX-512 ones; nv = n/Width. The caller has checked the shapes and
// that k >= 1, m >= 1.
func mulAddAsm[T kernels.Float](m, nv, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) bool {
	if kernels.ISA() >= kernels.AVX512 {
		if trace512 {
			calls512[0]++
		}
		mulAddAsm512(m, nv*Width[T](), k, a, ai, ap, b, ldb, c, ldc)
		return true
	}
	r := maxRows[nv-1]
	if !dtype.Is32[T]() {
		pa := (*float64)(unsafe.Pointer(&a[0]))
		pb := (*float64)(unsafe.Pointer(&b[0]))
		pc := (*float64)(unsafe.Pointer(&c[0]))
		ks := panelsF64[nv-1]
		for i := 0; i < m; i += r {
			rr := min(r, m-i)
			ks[rr-1]((*float64)(unsafe.Add(unsafe.Pointer(pc), 8*i*ldc)), ldc,
				(*float64)(unsafe.Add(unsafe.Pointer(pa), 8*i*ai)), ai, ap, pb, ldb, k)
		}
		return true
	}
	pa := (*float32)(unsafe.Pointer(&a[0]))
	pb := (*float32)(unsafe.Pointer(&b[0]))
	pc := (*float32)(unsafe.Pointer(&c[0]))
	ks := panelsF32[nv-1]
	for i := 0; i < m; i += r {
		rr := min(r, m-i)
		ks[rr-1]((*float32)(unsafe.Add(unsafe.Pointer(pc), 4*i*ldc)), ldc,
			(*float32)(unsafe.Add(unsafe.Pointer(pa), 4*i*ai)), ai, ap, pb, ldb, k)
	}
	return true
}

// mulAddAsm512 is mulAddAsm on the AVX-512 panels: n columns in
// ceil(n/16) float32 or ceil(n/8) float64 ZMM vectors, the last one
// restricted by an opmask to the lanes below n.
func mulAddAsm512[T kernels.Float](m, n, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) {
	w := 2 * Width[T]()
	nv := (n + w - 1) / w
	last := 1<<(n-(nv-1)*w) - 1
	r := maxRows512[nv-1]
	size := uintptr(dtype.Size[T]())
	pa, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	for i := 0; i < m; i += r {
		rr := min(r, m-i)
		ci, ai0 := unsafe.Add(pc, size*uintptr(i*ldc)), unsafe.Add(pa, size*uintptr(i*ai))
		if size == 8 {
			panelsF64AVX512[nv-1][rr-1]((*float64)(ci), ldc, (*float64)(ai0), ai, ap, (*float64)(pb), ldb, k, last)
		} else {
			panelsF32AVX512[nv-1][rr-1]((*float32)(ci), ldc, (*float32)(ai0), ai, ap, (*float32)(pb), ldb, k, last)
		}
	}
}
