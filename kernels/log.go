package kernels

import "math"

// Log returns the natural logarithm of x, the same bits on every platform
// and build: unlike math.Log, which is assembly on amd64 and Go code that
// the compiler may fuse differently elsewhere, it is a port of glibc's log
// (glibc 2.28 and later, sysdeps/ieee754/dbl-64/e_log.c, an algorithm from
// Arm's optimized-routines) in the
// variant glibc runs on x86-64 CPUs with FMA and AVX2 (__log_fma, its
// __FP_FAST_FMA code path): x = 2^k·z with z in [0x1.6p-1, 0x1.6p0), a
// 128-entry table of 1/c and log(c) for c near z, r = z/c - 1 by one FMA,
// and a degree-6 polynomial for log1p(r); arguments within
// [1-2⁻⁴, 1+0x1.09p-4] take a degree-12 polynomial with a split leading
// term instead (glibc documents a maximum error of 0.519 ulp).
// SoftmaxCERows uses it for its loss; package nprand uses it
// to draw the same normal deviates as numpy linked against glibc.
//
// The C source leaves the choice of which a·b+c to fuse to the compiler;
// the fusions below are those of the compiled __log_fma in Debian 12's
// libm.so.6 (glibc 2.36, read from its machine code), and every other
// product is rounded on its own (explicit float64 conversions keep the Go
// compiler from fusing them). math.FMA is exactly fused on every platform,
// so the result is the same everywhere.
//
// Like glibc: Log(1) = +0, Log(±0) = -Inf, Log(+Inf) = +Inf, and NaN for
// negative x or NaN.
func Log(x float64) float64 {
	const (
		one   = 0x3ff0000000000000 // bits of 1.0
		nearL = 0x3fee000000000000 // bits of 1 - 0x1p-4
		nearH = 0x3ff1090000000000 // bits of 1 + 0x1.09p-4
		off   = 0x3fe6000000000000 // bits of 0x1.6p-1, the start of z's range
	)
	ix := math.Float64bits(x)
	if ix-nearL < nearH-nearL {
		if ix == one {
			return 0
		}
		B := &logPoly1
		r := x - 1
		r2 := float64(r * r)
		r3 := float64(r * r2)
		p1 := math.FMA(r2, B[3], math.FMA(r, B[2], B[1]))
		p2 := math.FMA(r2, B[6], math.FMA(r, B[5], B[4]))
		p3 := math.FMA(r3, B[10], math.FMA(r2, B[9], math.FMA(r, B[8], B[7])))
		p := math.FMA(math.FMA(p3, r3, p2), r3, p1)
		// r = rhi + rlo with rhi of at most 27 bits, so the leading
		// term B[0]·r² is computed nearly exactly.
		rhi := math.FMA(-r, 0x1p27, math.FMA(r, 0x1p27, r))
		rlo := r - rhi
		rr := float64(rhi * rhi)
		hi := math.FMA(rr, B[0], r)
		lo := math.FMA(rr, B[0], r-hi)
		lo = math.FMA(float64(B[0]*rlo), r+rhi, lo)
		return math.FMA(p, r3, lo) + hi
	}
	if top := uint32(ix >> 48); top-0x0010 >= 0x7ff0-0x0010 {
		// x < 2⁻¹⁰²², or x is Inf or NaN.
		switch {
		case ix<<1 == 0:
			return math.Inf(-1)
		case x == math.Inf(1):
			return x
		case top&0x8000 != 0 || top&0x7ff0 == 0x7ff0:
			return math.NaN()
		}
		// Subnormal: scale by 2⁵² and take 52 off the exponent.
		ix = math.Float64bits(x*0x1p52) - 52<<52
	}
	tmp := ix - off
	i := (tmp >> (52 - 7)) % 128
	k := int64(tmp) >> 52 // arithmetic shift
	z := math.Float64frombits(ix - tmp&(0xfff<<52))
	t := &logTab[i]
	A := &logPoly
	r := math.FMA(z, t.invc, -1) // z/c - 1
	kd := float64(k)
	// hi + lo = r + log(c) + k·ln2.
	w := math.FMA(kd, logLn2hi, t.logc)
	hi := w + r
	lo := math.FMA(kd, logLn2lo, w-hi+r)
	// log(x) = lo + (log1p(r) - r) + hi.
	r2 := float64(r * r)
	q := math.FMA(math.FMA(r, A[4], A[3]), r2, math.FMA(r, A[2], A[1]))
	return math.FMA(float64(r*r2), q, math.FMA(r2, A[0], lo)) + hi
}
