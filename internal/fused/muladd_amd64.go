//go:build amd64 && gc && !purego

package fused

//go:generate sh -c "cd _gen && go run . -out ../muladd_amd64.s -stubs ../muladd_stub_amd64.go -pkg fused -table ../muladd_table_amd64.go"

import (
	"unsafe"

	"github.com/nnkern/nnkern/kernels"
)

// maxRows[nv-1] is the row blocking of the nv-vector panels (see _gen).
var maxRows = [4]int{8, 6, 4, 3}

// mulAddAsm runs MulAdd through the AVX2+FMA panels; nv = n/Width. The
// caller has checked the shapes and that k >= 1, m >= 1.
func mulAddAsm[T kernels.Float](m, nv, k int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int) bool {
	r := maxRows[nv-1]
	if unsafe.Sizeof(a[0]) == 8 {
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
