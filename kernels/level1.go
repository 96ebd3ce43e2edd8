package kernels

import (
	"math"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels/internal/canon"
)

//go:generate sh -c "cd _gen && go run . -family level1 -out ../level1_amd64.s -stubs ../level1_stub_amd64.go -pkg kernels"

// Dot returns Σ x[i]·y[i] in the canonical order of the package (see
// Numerics in the package documentation: 64 float32 or 32 float64 partial
// sums, each product fused into its partial sum, then a halving tree),
// the same bits on every ISA level. It panics if len(x) != len(y).
func Dot[T Float](x, y []T) T {
	checkLen("Dot", "x", len(x), "y", len(y))
	return dot(x, y)
}

func dotGeneric[T Float](x, y []T) T {
	var buf [canonMax]T
	p := buf[:partials[T]()]
	n := len(x)
	y = y[:n]
	for len(x) >= len(p) {
		fmaPairs(p, x[:len(p)], y[:len(p)])
		x, y = x[len(p):], y[len(p):]
	}
	fmaPairs(p[:len(x)], x, y)
	return treeSum(p, min(n, len(p)))
}

// Axpy computes y[i] += a·x[i] (the product rounded, then the sum: no fused
// multiply-add, so every ISA gives identical bits). It panics if
// len(x) != len(y).
func Axpy[T Float](a T, x, y []T) {
	checkLen("Axpy", "x", len(x), "y", len(y))
	axpy(a, x, y)
}

func axpyGeneric[T Float](a T, x, y []T) {
	y = y[:len(x)]
	for i := range x {
		y[i] += T(a * x[i])
	}
}

// Scale computes x[i] *= a.
func Scale[T Float](a T, x []T) { scale(a, x) }

func scaleGeneric[T Float](a T, x []T) {
	for i := range x {
		x[i] *= a
	}
}

// AddTo computes dst[i] += x[i]. It panics if len(dst) != len(x).
func AddTo[T Float](dst, x []T) {
	checkLen("AddTo", "dst", len(dst), "x", len(x))
	addTo(dst, x)
}

func addToGeneric[T Float](dst, x []T) {
	dst = dst[:len(x)]
	for i := range x {
		dst[i] += x[i]
	}
}

// SubFrom computes dst[i] -= x[i]. It panics if len(dst) != len(x).
func SubFrom[T Float](dst, x []T) {
	checkLen("SubFrom", "dst", len(dst), "x", len(x))
	subFrom(dst, x)
}

func subFromGeneric[T Float](dst, x []T) {
	dst = dst[:len(x)]
	for i := range x {
		dst[i] -= x[i]
	}
}

// MulTo computes dst[i] *= x[i]. It panics if len(dst) != len(x).
func MulTo[T Float](dst, x []T) {
	checkLen("MulTo", "dst", len(dst), "x", len(x))
	mulTo(dst, x)
}

func mulToGeneric[T Float](dst, x []T) {
	dst = dst[:len(x)]
	for i := range x {
		dst[i] *= x[i]
	}
}

// Sum returns Σ x[i] (+0 for an empty slice) in the canonical order, as
// Dot.
func Sum[T Float](x []T) T { return sum(x) }

func sumGeneric[T Float](x []T) T { return canonSum(x) }

// SumSq returns Σ x[i]² (+0 for an empty slice) in the canonical order, as
// Dot (each square fused into its partial sum).
func SumSq[T Float](x []T) T { return sumSq(x) }

func sumSqGeneric[T Float](x []T) T {
	var buf [canonMax]T
	p := buf[:partials[T]()]
	n := len(x)
	for len(x) >= len(p) {
		fmaPairs(p, x[:len(p)], x[:len(p)])
		x = x[len(p):]
	}
	fmaPairs(p[:len(x)], x, x)
	return treeSum(p, min(n, len(p)))
}

// SumSq64 returns Σ float64(x[i])² accumulated in float64 (+0 for an empty
// slice), in the canonical order of float64 reductions: 32 float64 partial
// sums, element i into partial i mod 32, then the halving tree (Numerics
// in the package documentation). It is the sum of squares of a float32
// matrix to report in a float64 loss, the same bits on every ISA level.
//
// The term of float32 x[i] is the square of float64(x[i]), exact in
// float64 (24-bit significands square into 48 bits, exponents stay in
// range), so fusing it into the partial sum, as the assembly does, gives
// the bits of the product then the add. The term of float64 x[i] is its
// square rounded to float64, then added (no fused multiply-add), on every
// level.
func SumSq64[T Float](x []T) float64 { return sumSq64(x) }

func sumSq64Generic[T Float](x []T) float64 {
	var p [canon.Partials64]float64
	n := len(x)
	for len(x) >= len(p) {
		sumSq64Block(&p, (*[canon.Partials64]T)(x))
		x = x[len(p):]
	}
	if len(x) > 0 {
		var tail [canon.Partials64]T // zeros add +0 to the partials: exact
		copy(tail[:], x)
		sumSq64Block(&p, &tail)
	}
	return treeSum(p[:], min(n, len(p)))
}

// sumSq64Block adds the squares of one block to the partial sums. A
// float32's square is exact in float64, so product then add has the bits
// of the assembly's fused multiply-add; a float64's is rounded, then added.
// The conversions keep the compiler from fusing either.
func sumSq64Block[T Float](p *[canon.Partials64]float64, x *[canon.Partials64]T) {
	if dtype.Is32[T]() {
		for j, v := range x {
			a := float64(v)
			p[j] += float64(a * a)
		}
		return
	}
	for j, v := range x {
		p[j] += float64(v * v)
	}
}

// Max returns the largest element of x; the first NaN if any element is NaN;
// -Inf for an empty slice. If the largest value is a zero, it is the first
// zero of x (so the sign is that of the first zero), on every ISA.
func Max[T Float](x []T) T { return max_(x) }

func maxGeneric[T Float](x []T) T {
	m := T(math.Inf(-1))
	for _, v := range x {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// ArgMax returns the index of the first maximal element of x (−0 and +0
// count as equal), or of the first NaN if x holds one; -1 for an empty
// slice.
func ArgMax[T Float](x []T) int { return argMax(x) }

func argMaxGeneric[T Float](x []T) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v != v {
			return i
		}
		if v > x[best] {
			best = i
		}
	}
	return best
}

func firstNaN[T Float](x []T) int {
	for i, v := range x {
		if v != v {
			return i
		}
	}
	return -1
}

// fmaPairs sets p[j] = fma(x[j], y[j], p[j]) (len(p) == len(x) == len(y)),
// with math.FMA inlined for float64.
func fmaPairs[T Float](p, x, y []T) {
	y = y[:len(x)]
	p = p[:len(x)]
	if dtype.Is32[T]() {
		for j, v := range x {
			p[j] = T(fma32(float32(v), float32(y[j]), float32(p[j])))
		}
		return
	}
	for j, v := range x {
		p[j] = T(math.FMA(float64(v), float64(y[j]), float64(p[j])))
	}
}
