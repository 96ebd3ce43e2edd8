package kernels

import (
	"math"

	"github.com/nnkern/nnkern/internal/dtype"
)

// FMA returns x·y+z rounded once to T, as the fused multiply-add
// instructions of the assembly kernels compute it. It is the generic
// level's (and every Go caller's) way to perform the same operation: for
// float64 it is math.FMA; for float32 an exact emulation, since rounding
// the float64 result of x·y+z again to float32 can double-round.
//
// nnkern's numerical contract (see the package documentation) needs every
// ISA level to fuse exactly where the others do; plain Go expressions such
// as x*y + z must not be used for that, because the compiler may or may not
// fuse them depending on GOARCH and GOAMD64.
func FMA[T Float](x, y, z T) T {
	if dtype.Is32[T]() {
		return T(fma32(float32(x), float32(y), float32(z)))
	}
	return T(math.FMA(float64(x), float64(y), float64(z)))
}

// fma32 returns the correctly rounded float32 a·b+c, as VFMADD does. The
// product is exact in float64, so s = a·b+c rounded once to float64 is
// within half a float64 ulp; rounding s to float32 is then the correct
// single rounding unless s landed exactly on a float32 midpoint (or is
// subnormal as a float32), in which case fma32Slow decides from the exact
// error of the sum. (Neither fits the compiler's inlining budget: a Go
// loop of float32 FMAs pays a call each, the price of matching the
// hardware instruction bit for bit without it.)
func fma32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // exact: 24+24 bits
	s := p + float64(c)
	u := math.Float64bits(s)
	if u&(1<<29-1) != 1<<28 && u&0x7ff0000000000000 > 0x3810000000000000 {
		return float32(s)
	}
	return fma32Slow(p, float64(c), s)
}

// fma32Slow rounds the exact sum p+c to float32 when s = fl64(p+c) is a
// float32 midpoint or below the float32 normal range: the exact error of
// the sum (TwoSum) rounds s to odd first (53 >= 24+2 bits), after which
// the conversion to float32 rounds correctly.
func fma32Slow(p, c, s float64) float32 {
	if math.IsInf(s, 0) || s != s {
		return float32(s)
	}
	u := math.Float64bits(s)
	bb := s - p
	e := (p - (s - bb)) + (c - bb)
	if e != 0 && u&1 == 0 {
		if (e > 0) == (s > 0) {
			u++
		} else {
			u--
		}
		s = math.Float64frombits(u)
	}
	return float32(s)
}

// AxpyFused computes y[i] = fma(a, x[i], y[i]) (FMA: a·x[i]+y[i] rounded
// once), the same bits on every level. It is the inner loop of the
// pure-Go GEMM micro-kernels that must match fused assembly, written once
// here so that the float64 loop inlines math.FMA (a generic FMA call per
// element is not inlined). It panics if len(x) != len(y).
func AxpyFused[T Float](a T, x, y []T) {
	checkLen("AxpyFused", "x", len(x), "y", len(y))
	y = y[:len(x)]
	if dtype.Is32[T]() {
		a32 := float32(a)
		for i, v := range x {
			y[i] = T(fma32(a32, float32(v), float32(y[i])))
		}
		return
	}
	a64 := float64(a)
	for i, v := range x {
		y[i] = T(math.FMA(a64, float64(v), float64(y[i])))
	}
}
