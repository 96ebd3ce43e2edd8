package fused

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// TestTranspose compares Transpose with the element-by-element definition
// on every ISA level, bit for bit: shapes on both sides of the 8×8, 16×16
// and 4×4 blocks (the C = 10 of the softmax W, the 3073 of its D), row
// strides wider than the rows, sources and destinations starting off any
// element (so off the cache lines), values that include NaNs with
// payloads, ±Inf, -0 and subnormals. Every element of dst outside the
// transpose must keep its sentinel.
func TestTranspose(t *testing.T) {
	for _, lvl := range kernels.Levels() {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			defer kernels.SetISA(lvl)()
			rng := rand.New(rand.NewPCG(7, uint64(lvl)))
			shapes := [][2]int{{3073, 10}, {10, 3073}, {10, 384}, {385, 10}, {1, 1}, {1, 37}, {37, 1}, {16, 16}, {17, 17}, {8, 8}, {9, 7}, {4, 4}, {5, 3}, {33, 16}, {16, 33}, {0, 5}, {5, 0}}
			for r := 1; r <= 20; r++ {
				for _, c := range []int{1, 2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17, 31, 33} {
					shapes = append(shapes, [2]int{r, c}, [2]int{c, r})
				}
			}
			for _, sh := range shapes {
				testTranspose[float32](t, rng, sh[0], sh[1])
				testTranspose[float64](t, rng, sh[0], sh[1])
			}
		})
	}
}

// tpValue returns a random value with the bit patterns a transpose must
// carry unchanged.
func tpValue[T kernels.Float](rng *rand.Rand) T {
	var z T
	if _, ok := any(z).(float32); ok {
		specials := []uint32{0x7fc00001, 0xffa12345, 0x7f800000, 0xff800000, 0x80000000, 0x00000001, 0x807fffff}
		if rng.IntN(8) == 0 {
			return T(any(math.Float32frombits(specials[rng.IntN(len(specials))])).(float32))
		}
		return T(rng.NormFloat64())
	}
	specials := []uint64{0x7ff8000000000001, 0xfff4000000abcdef, 0x7ff0000000000000, 0xfff0000000000000, 0x8000000000000000, 1, 0x800fffffffffffff}
	if rng.IntN(8) == 0 {
		return T(any(math.Float64frombits(specials[rng.IntN(len(specials))])).(float64))
	}
	return T(rng.NormFloat64())
}

// tpBits returns the bits of v.
func tpBits[T kernels.Float](v T) uint64 {
	switch x := any(v).(type) {
	case float32:
		return uint64(math.Float32bits(x))
	case float64:
		return math.Float64bits(x)
	}
	panic("unreachable")
}

func testTranspose[T kernels.Float](t *testing.T, rng *rand.Rand, r, c int) {
	t.Helper()
	lds, ldd := c+rng.IntN(4), r+rng.IntN(4)
	so, do := rng.IntN(17), rng.IntN(17)
	src := make([]T, so+max(0, (r-1)*lds+c)+rng.IntN(3))
	for i := range src {
		src[i] = tpValue[T](rng)
	}
	sentinel := T(math.Float32frombits(0x7fa5a5a5)) // a signalling NaN as float32, a NaN as float64
	dst := make([]T, do+max(0, (c-1)*ldd+r)+rng.IntN(3))
	for i := range dst {
		dst[i] = sentinel
	}
	Transpose(r, c, src[so:], lds, dst[do:], ldd)
	for k := range dst {
		want := sentinel
		if q := k - do; q >= 0 {
			if j, i := q/ldd, q%ldd; j < c && i < r {
				want = src[so+i*lds+j]
			}
		}
		if tpBits(dst[k]) != tpBits(want) {
			t.Fatalf("%T r=%d c=%d lds=%d ldd=%d src+%d dst+%d: dst[%d] has bits %#x, want %#x", want, r, c, lds, ldd, so, do, k, tpBits(dst[k]), tpBits(want))
		}
	}
}

// Transpose panics with a message naming the bad argument.
func TestTransposeArgs(t *testing.T) {
	s := make([]float32, 12)
	for _, tc := range []struct {
		want string
		f    func()
	}{
		{"bad sizes", func() { Transpose(3, 4, s, 3, s, 3) }},
		{"bad sizes", func() { Transpose(3, 4, s, 4, s, 2) }},
		{"bad sizes", func() { Transpose(-1, 4, s, 4, s, 4) }},
		{"len(src)=12 < 14", func() { Transpose(3, 4, s, 5, make([]float32, 20), 3) }},
		{"len(dst)=12 < 14", func() { Transpose(4, 3, make([]float32, 20), 3, s, 5) }},
	} {
		func() {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, tc.want) {
					t.Errorf("panic %q, want it to contain %q", r, tc.want)
				}
			}()
			tc.f()
		}()
	}
}

// BenchmarkTranspose: the softmax W (3073×10) into Wᵀ, and a gradient
// part (10×384) back.
func BenchmarkTranspose(b *testing.B) {
	for _, sh := range [][2]int{{3073, 10}, {10, 384}} {
		b.Run(fmt.Sprintf("f32/%dx%d", sh[0], sh[1]), func(b *testing.B) { benchTranspose[float32](b, sh[0], sh[1]) })
		b.Run(fmt.Sprintf("f64/%dx%d", sh[0], sh[1]), func(b *testing.B) { benchTranspose[float64](b, sh[0], sh[1]) })
	}
}

func benchTranspose[T kernels.Float](b *testing.B, r, c int) {
	src := make([]T, r*c)
	ldd := (r + 15) &^ 15
	dst := make([]T, c*ldd)
	for b.Loop() {
		Transpose(r, c, src, c, dst, ldd)
	}
	b.ReportMetric(float64(r*c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
}
