package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// TestSumSq compares SumSq with a plain float64 sum of squares over
// shapes with row tails, a row stride wider than the row, and values of
// mixed magnitude and sign.
func TestSumSq(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][3]int{{0, 0, 0}, {1, 1, 1}, {1, 3, 5}, {3, 4, 4}, {5, 7, 9}, {17, 13, 13}, {64, 10, 10}, {33, 200, 203}} {
		rows, cols, stride := sh[0], sh[1], sh[2]
		data := make([]float64, rows*stride)
		for i := range data {
			data[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(7)-3))
		}
		W := blas.Matrix[float64]{Rows: rows, Cols: cols, Stride: stride, Data: data}
		if rows == 0 {
			W = blas.Matrix[float64]{}
		}
		W32 := blas.Matrix[float32]{Rows: W.Rows, Cols: W.Cols, Stride: W.Stride, Data: make([]float32, len(data))}
		for i, v := range data {
			W32.Data[i] = float32(v)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"f64", SumSq(W), plainSumSq(W)}, {"f32", SumSq(W32), plainSumSq(W32)}} {
			if e := math.Abs(c.got - c.want); !(e <= 1e-14*c.want) {
				t.Errorf("%s %d×%d stride %d: SumSq %v, sumSq %v", c.name, rows, cols, stride, c.got, c.want)
			}
		}
		// The documented order, written out plainly: the float64 squares
		// (a float32's exact, a float64's rounded) of the contiguous data,
		// or of each row with the row sums added in row order, each in 32
		// partial sums and a halving tree.
		if got, want := SumSq(W), sumSqOrder(W, func(v float64) float64 { return float64(v * v) }); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("f64 %d×%d stride %d: SumSq %v, documented order %v", rows, cols, stride, got, want)
		}
		if got, want := SumSq(W32), sumSqOrder(W32, func(v float32) float64 { return float64(v) * float64(v) }); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("f32 %d×%d stride %d: SumSq %v, documented order %v", rows, cols, stride, got, want)
		}
	}
}

// sumSqOrder sums sq over W in SumSq's documented order.
func sumSqOrder[T kernels.Float](W blas.Matrix[T], sq func(T) float64) float64 {
	canon := func(x []T) float64 {
		var p [32]float64
		for i, v := range x {
			p[i%32] += sq(v)
		}
		for h := 16; h >= 1; h /= 2 {
			for i := 0; i < h; i++ {
				p[i] += p[i+h]
			}
		}
		return p[0]
	}
	if W.Rows == 0 || W.Cols == 0 {
		return 0
	}
	if W.Stride == W.Cols || W.Rows == 1 {
		return canon(W.Data[:(W.Rows-1)*W.Stride+W.Cols])
	}
	s := 0.0
	for i := 0; i < W.Rows; i++ {
		s += canon(W.Row(i))
	}
	return s
}

// plainSumSq is ΣW² in one float64 chain, row by row.
func plainSumSq[T kernels.Float](W blas.Matrix[T]) float64 {
	var s float64
	for i := 0; i < W.Rows; i++ {
		for _, v := range W.Data[i*W.Stride : i*W.Stride+W.Cols] {
			s += float64(float64(v) * float64(v))
		}
	}
	return s
}
