package blas

import (
	"unsafe"

	"github.com/nnkern/nnkern/internal/dtype"
)

// Overlaps reports whether two matrix views share an element: Gemm refuses
// a C that overlaps A or B (and Axpy an x that overlaps y other than x = y),
// so a caller that may pass such views (an adapter for gonum's BLAS, whose
// callers may alias) can test first. Views into different arrays never
// overlap; views into one array with the same stride are compared exactly
// as rectangles (so disjoint blocks of one matrix are fine); with different
// strides, any intersection of their memory ranges counts (conservative).
// Empty views overlap nothing.
func Overlaps[T float](a, b Matrix[T]) bool {
	if a.Rows == 0 || a.Cols == 0 || b.Rows == 0 || b.Cols == 0 {
		return false
	}
	size := dtype.Size[T]()
	pa := uintptr(unsafe.Pointer(&a.Data[0]))
	pb := uintptr(unsafe.Pointer(&b.Data[0]))
	endA := pa + uintptr(((a.Rows-1)*a.Stride+a.Cols)*size)
	endB := pb + uintptr(((b.Rows-1)*b.Stride+b.Cols)*size)
	if endA <= pb || endB <= pa {
		return false
	}
	if a.Stride != b.Stride || (pa > pb && (pa-pb)%uintptr(size) != 0) || (pb > pa && (pb-pa)%uintptr(size) != 0) {
		return true
	}
	if pa > pb {
		a, b, pa, pb = b, a, pb, pa
	}
	// b's element (i, j) is a's element (i+dr, j+dc) in a's coordinates,
	// where columns at or past the stride wrap into the next row.
	s := a.Stride
	d := int(pb-pa) / size
	dr, dc := d/s, d%s
	// The part of b's columns that does not wrap: [dc, min(dc+b.Cols, s)).
	if rectsOverlap(0, a.Rows, 0, a.Cols, dr, dr+b.Rows, dc, min(dc+b.Cols, s)) {
		return true
	}
	// The wrapped part: columns [0, dc+b.Cols-s) one row further down.
	if dc+b.Cols > s {
		return rectsOverlap(0, a.Rows, 0, a.Cols, dr+1, dr+1+b.Rows, 0, dc+b.Cols-s)
	}
	return false
}

// rectsOverlap reports whether [r0, r1)×[c0, c1) and [s0, s1)×[d0, d1)
// intersect.
func rectsOverlap(r0, r1, c0, c1, s0, s1, d0, d1 int) bool {
	return r0 < s1 && s0 < r1 && c0 < d1 && d0 < c1
}
