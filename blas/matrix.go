package blas

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

// Matrix is a row-major Rows×Cols view of Data: element (i, j) is
// Data[i*Stride+j]. Stride >= Cols. Several matrices may share Data
// (views); the zero Matrix is an empty 0×0 matrix.
type Matrix[T kernels.Float] struct {
	// Element (i, j) is Data[i*Stride+j] for i < Rows, j < Cols.
	Rows, Cols, Stride int
	Data               []T
}

// NewMatrix returns a zeroed rows×cols matrix with Stride == cols.
// It panics if rows or cols is negative.
func NewMatrix[T kernels.Float](rows, cols int) Matrix[T] {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("blas.NewMatrix: negative shape %d×%d", rows, cols))
	}
	return Matrix[T]{Rows: rows, Cols: cols, Stride: cols, Data: make([]T, rows*cols)}
}

// FromSlice returns a rows×cols matrix viewing data (Stride == cols).
// It panics if len(data) != rows*cols.
func FromSlice[T kernels.Float](rows, cols int, data []T) Matrix[T] {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		panic(fmt.Sprintf("blas.FromSlice: len(data)=%d for shape %d×%d", len(data), rows, cols))
	}
	return Matrix[T]{Rows: rows, Cols: cols, Stride: cols, Data: data}
}

// Check returns an error describing why m is not a valid matrix: negative
// dimensions, Stride < Cols, or Data too short for its shape.
func (m Matrix[T]) Check() error {
	switch {
	case m.Rows < 0 || m.Cols < 0:
		return fmt.Errorf("negative shape %d×%d", m.Rows, m.Cols)
	case m.Stride < m.Cols || m.Stride < 0:
		return fmt.Errorf("stride %d < cols %d", m.Stride, m.Cols)
	case m.Rows > 0 && m.Cols > 0 && len(m.Data) < (m.Rows-1)*m.Stride+m.Cols:
		return fmt.Errorf("len(Data)=%d too short for %d×%d stride %d", len(m.Data), m.Rows, m.Cols, m.Stride)
	}
	return nil
}

// Dims returns the number of rows and columns (as gonum's mat.Matrix
// does, so code that reads a matrix through Dims and At takes a Matrix).
func (m Matrix[T]) Dims() (rows, cols int) { return m.Rows, m.Cols }

// At returns element (i, j).
func (m Matrix[T]) At(i, j int) T { return m.Data[i*m.Stride+j] }

// Set sets element (i, j) to v.
func (m Matrix[T]) Set(i, j int, v T) { m.Data[i*m.Stride+j] = v }

// Row returns row i as a slice of length Cols sharing m's storage.
func (m Matrix[T]) Row(i int) []T { return m.Data[i*m.Stride : i*m.Stride+m.Cols] }

// Slice returns the view of rows [i0, i1) and columns [j0, j1), sharing
// m's storage.
func (m Matrix[T]) Slice(i0, i1, j0, j1 int) Matrix[T] {
	if i0 < 0 || i1 < i0 || i1 > m.Rows || j0 < 0 || j1 < j0 || j1 > m.Cols {
		panic(fmt.Sprintf("blas.Matrix.Slice: [%d:%d, %d:%d] out of %d×%d", i0, i1, j0, j1, m.Rows, m.Cols))
	}
	if i1 == i0 || j1 == j0 {
		return Matrix[T]{Rows: i1 - i0, Cols: j1 - j0, Stride: m.Stride}
	}
	return Matrix[T]{Rows: i1 - i0, Cols: j1 - j0, Stride: m.Stride,
		Data: m.Data[i0*m.Stride+j0 : (i1-1)*m.Stride+j1]}
}

// Clone returns a compact (Stride == Cols) copy of m.
func (m Matrix[T]) Clone() Matrix[T] {
	c := NewMatrix[T](m.Rows, m.Cols)
	for i := 0; i < m.Rows; i++ {
		copy(c.Row(i), m.Row(i))
	}
	return c
}

// Zero sets every element of m to 0.
func (m Matrix[T]) Zero() {
	for i := 0; i < m.Rows; i++ {
		clear(m.Row(i))
	}
}
