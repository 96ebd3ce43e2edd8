package kernels

import "math"

//go:generate sh -c "cd _gen && go run . -family level1 -out ../level1_amd64.s -stubs ../level1_stub_amd64.go -pkg kernels"

// Dot returns Σ x[i]·y[i]. It panics if len(x) != len(y).
//
// The assembly keeps several partial sums (fused multiply-add) and adds them
// at the end, so its result may differ from the generic sequential loop in
// the last bits (bounded by the usual n·ε·Σ|x[i]·y[i]|).
func Dot[T Float](x, y []T) T {
	checkLen("Dot", "x", len(x), "y", len(y))
	return dot(x, y)
}

func dotGeneric[T Float](x, y []T) T {
	var s T
	for i := range x {
		s += T(x[i] * y[i])
	}
	return s
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

// Sum returns Σ x[i] (0 for an empty slice). Like Dot, the assembly adds in
// a different order than the generic loop.
func Sum[T Float](x []T) T { return sum(x) }

func sumGeneric[T Float](x []T) T {
	var s T
	for _, v := range x {
		s += v
	}
	return s
}

// SumSq returns Σ x[i]² (0 for an empty slice). Like Dot, the assembly adds
// in a different order than the generic loop.
func SumSq[T Float](x []T) T { return sumSq(x) }

func sumSqGeneric[T Float](x []T) T {
	var s T
	for _, v := range x {
		s += T(v * v)
	}
	return s
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
