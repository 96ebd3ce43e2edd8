//go:build linux

package blas

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/internal/pageguard"
)

// TestGemmPageBounds: every implementation (each backend; native at
// every ISA level, GOMAXPROCS and packing variant, including the one
// that reads A and B in place wherever it can) reads and writes nothing
// outside A, B and C: each matrix's data lies against a page that faults
// on any access, at its start or at its end, for all four transposes and
// shapes with partial tiles and row strides past the columns. The result
// is the one the same implementation gives on ordinary memory, bit for
// bit.
func TestGemmPageBounds(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testGemmPageBounds[float32](t) })
	t.Run("f64", func(t *testing.T) { testGemmPageBounds[float64](t) })
}

func testGemmPageBounds[T float](t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	arena := pageguard.New(t)
	// guarded returns a rows×cols matrix with stride cols+pad whose data
	// touches a guard page, and an ordinary copy.
	guarded := func(rows, cols, pad int, atEnd bool) (g, plain Matrix[T]) {
		stride := cols + pad
		n := (rows-1)*stride + cols
		g = Matrix[T]{Rows: rows, Cols: cols, Stride: stride, Data: pageguard.Slice[T](arena, n, atEnd)}
		plain = Matrix[T]{Rows: rows, Cols: cols, Stride: stride, Data: make([]T, n)}
		for i := range g.Data {
			v := T(rng.IntN(9) - 4)
			g.Data[i], plain.Data[i] = v, v
		}
		return g, plain
	}
	for _, sh := range []struct{ m, k, n, pad int }{
		{1, 1, 1, 0}, {7, 9, 13, 1}, {17, 33, 5, 0}, {64, 40, 31, 3}, {33, 300, 70, 1}, {5, 600, 600, 0},
	} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			tA, tB := tr[0], tr[1]
			ar, ac := sh.m, sh.k
			if tA {
				ar, ac = ac, ar
			}
			br, bc := sh.k, sh.n
			if tB {
				br, bc = bc, br
			}
			for _, atEnd := range []bool{false, true} {
				for _, im := range impls() {
					a, pa := guarded(ar, ac, sh.pad, atEnd)
					b, pb := guarded(br, bc, sh.pad+1, !atEnd)
					c, pc := guarded(sh.m, sh.n, sh.pad, atEnd)
					im.with(t, func() {
						Gemm(tA, tB, 0.5, a, b, 0.25, c)
						Gemm(tA, tB, 0.5, pa, pb, 0.25, pc)
					})
					if i, j, ok := sameMatrix(c, pc); !ok {
						t.Fatalf("%s %s %+v tA=%v tB=%v atEnd=%v: C[%d,%d] = %v against guard pages, %v in ordinary memory",
							im.name, fmt.Sprintf("%T", a.Data[0]), sh, tA, tB, atEnd, i, j, c.At(i, j), pc.At(i, j))
					}
				}
			}
		}
	}
}
