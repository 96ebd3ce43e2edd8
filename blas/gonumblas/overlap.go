package gonumblas

import (
	"unsafe"

	nnblas "github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// overlaps reports whether nnkern's Gemm would refuse C = x or x = C as
// sharing an element: the same test as package blas's (unexported) one.
// Views with the same stride are compared exactly as rectangles, so the
// disjoint blocks of one matrix that LAPACK multiplies (Dgetrf's trailing
// update, for one) run on nnkern; views with different strides whose
// memory ranges intersect count as overlapping. x and c are non-empty.
func overlaps[T kernels.Float](x, c nnblas.Matrix[T]) bool {
	size := int(unsafe.Sizeof(x.Data[0]))
	px := uintptr(unsafe.Pointer(&x.Data[0]))
	pc := uintptr(unsafe.Pointer(&c.Data[0]))
	endX := px + uintptr(((x.Rows-1)*x.Stride+x.Cols)*size)
	endC := pc + uintptr(((c.Rows-1)*c.Stride+c.Cols)*size)
	if endX <= pc || endC <= px {
		return false
	}
	if x.Stride != c.Stride || (max(px, pc)-min(px, pc))%uintptr(size) != 0 {
		return true
	}
	if px > pc {
		x, c, px, pc = c, x, pc, px
	}
	// c's element (i, j) is x's element (i+dr, j+dc); columns at or past
	// the stride wrap into the next row.
	s := x.Stride
	d := int(pc-px) / size
	dr, dc := d/s, d%s
	if rects(x.Rows, x.Cols, dr, dr+c.Rows, dc, min(dc+c.Cols, s)) {
		return true
	}
	return dc+c.Cols > s && rects(x.Rows, x.Cols, dr+1, dr+1+c.Rows, 0, dc+c.Cols-s)
}

// rects reports whether [0, rows)×[0, cols) and [r0, r1)×[c0, c1)
// intersect.
func rects(rows, cols, r0, r1, c0, c1 int) bool {
	return r0 < rows && 0 < r1 && c0 < cols && 0 < c1
}
