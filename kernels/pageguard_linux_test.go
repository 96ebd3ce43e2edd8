//go:build linux

package kernels

import (
	"testing"

	"github.com/nnkern/nnkern/internal/pageguard"
)

// The guard bands of the other tests catch writes outside a slice; this
// test catches reads. Every slice a kernel gets is placed against an
// inaccessible page (internal/pageguard: ending at it, or starting right
// after one), so a load of even one byte outside the slice kills the test
// binary with SIGSEGV.

// pageVec returns n elements of T with small values, against a guard page
// (for n = 0: an empty slice whose pointer is at the guard page).
func pageVec[T Float](a *pageguard.Arena, atEnd bool, n int) []T {
	x := pageguard.Slice[T](a, n, atEnd)
	for i := range x {
		x[i] = T(float64(i%7)*0.25 - 0.5)
	}
	return x
}

func pageBytes(a *pageguard.Arena, atEnd bool, n int) []uint8 {
	b := a.Bytes(n, atEnd)
	for i := range b {
		b[i] = uint8(i * 37)
	}
	return b
}

// TestNoReadOutside calls every kernel at every level on every length up
// to maxShortLen (and a few more), each argument against a guard page on
// its end and, separately, on its start.
func TestNoReadOutside(t *testing.T) {
	both(t, testNoReadOutside[float32], testNoReadOutside[float64])
}

func testNoReadOutside[T Float](t *testing.T) {
	lens := append([]int(nil), testLens...)
	for _, l := range Levels() {
		t.Run("isa="+l.String(), func(t *testing.T) {
			defer SetISA(l)()
			for _, atEnd := range []bool{true, false} {
				a := pageguard.New(t)
				for _, n := range lens {
					if n > 1100 {
						continue
					}
					v := func() []T { return pageVec[T](a, atEnd, n) }
					Dot(v(), v())
					Axpy(0.5, v(), v())
					Scale(0.5, v())
					AddTo(v(), v())
					SubFrom(v(), v())
					MulTo(v(), v())
					Sum(v())
					SumSq(v())
					SumSq64(v())
					Max(v())
					ArgMax(v())
					ReLU(v(), v())
					ReLUBackward(v(), v())
					Exp(v(), v())
					U8ToFloat(v(), pageBytes(a, atEnd, n), v())
					MomentumStep(v(), v(), v(), 0.5, 0.9)
					RMSPropStep(v(), v(), v(), 0.5, 0.9, 0.1, 1e-8)
					AdamStep(v(), v(), v(), v(), 0.5, 0.9, 0.1, 0.99, 0.01, 0.5, 0.5, 1e-8)
					// Matrices of 2 rows × n columns, stride n (ending or
					// starting at a guard page), and per-column vectors.
					m := func() []T { return pageVec[T](a, atEnd, 2*n) }
					AddBias(m(), 2, n, n, v())
					BiasReLU(m(), 2, n, n, v())
					ColSum(v(), m(), 2, n, n)
					RowMax(pageVec[T](a, atEnd, 2), m(), 2, n, n)
					if n > 0 {
						y := []int{0, n - 1}
						SoftmaxRows(m(), m(), 2, n, n)
						SoftmaxCERows(m(), m(), 2, n, n, y, 0.5)
						HingeRows(m(), m(), 2, n, n, y, 0.5)
					}
					a.Free()
				}
			}
		})
	}
}
