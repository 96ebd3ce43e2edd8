// Package expc holds the constants of nnkern's vectorised exp, shared by the
// pure-Go version in package kernels and the avo generator in kernels/_gen so
// that both compute the same function bit for bit.
//
// Algorithm, for float64 (float32 likewise with its own constants):
//
//	xc = min(Hi, max(Lo, x))             NaN passes through
//	t  = fma(xc, Log2e, Magic)           round-to-nearest n in the low bits
//	nf = t − Magic
//	r  = fma(−nf, Ln2Hi, xc); r = fma(−nf, Ln2Lo, r)   |r| ≤ ln2/2
//	q  = Horner(C[len-1] … C[0]) in r    (C[k] multiplies r^k in (e^r−1−r)/r²)
//	p  = 1 + fma(r·r, q, r)
//	n  = int32(bits(t)) (minus MagicBits for float32); h = n>>1
//	y  = p · 2^h · 2^(n−h)               two exact scalings, so n = Hi/ln2 fits
//	y  = 0 if x < Lo; +Inf if x > Hi
//
// The coefficients are a Chebyshev fit (mpmath.chebyfit, 50 digits) of
// (e^r−1−r)/r² on |r| ≤ 1.001·ln2/2: degree 10 for float64 (fit error
// 1.4e-18), degree 5 for float32 (1.4e-9).
package expc

// float64 constants.
const (
	// Lo64 is the flush threshold: e^x for x < Lo64 is returned as +0
	// (e^Lo64 ≈ 2.24e-308 is still normal, so no subnormal is produced).
	Lo64 = -708.39
	// Hi64 is ln(MaxFloat64) as math.Exp uses it: e^x for x > Hi64 is +Inf.
	Hi64    = 709.782712893384
	Log2e64 = 1.4426950408889634
	Magic64 = 0x1.8p52
	Ln2Hi64 = 6.93147180369123816490e-01
	Ln2Lo64 = 1.90821492927058770002e-10
	Bias64  = 1023
	Shift64 = 52
)

// C64 are the float64 coefficients of q, lowest power first.
var C64 = []float64{
	0.5,
	0.1666666666666667102973792,
	0.04166666666666666978253228,
	0.008333333333326083120187983,
	0.001388888888888371116672481,
	0.000198412698750022787926277,
	0.00002480158732567746190026024,
	0.000002755725517000088743755053,
	0.0000002755727347871858047396078,
	2.510531272962210178711474e-8,
	2.091475532589320219985841e-9,
}

// float32 constants.
const (
	// Lo32 is the flush threshold: e^x for x < Lo32 is +0 (e^Lo32 ≈ 1.18e-38
	// is still a normal float32).
	Lo32 = -87.33
	// Hi32 is just below ln(MaxFloat32): e^x for x > Hi32 is +Inf.
	Hi32      = 88.72283
	Log2e32   = 1.4426950408889634
	Magic32   = 0x1.8p23
	MagicBits = 0x4b400000
	Ln2Hi32   = 0.693145751953125
	Ln2Lo32   = 1.428606765330187045e-06
	Bias32    = 127
	Shift32   = 23
)

// C32 are the float32 coefficients of q, lowest power first.
var C32 = []float64{
	0.5000000013538729886621522,
	0.166666666817042150427022,
	0.04166646419740569231501089,
	0.008333310844647862564159302,
	0.001393373071579208250224141,
	0.0001989108046399884203880879,
}
