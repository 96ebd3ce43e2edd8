package nprand

import "math"

// logCR returns the natural logarithm of x > 0 (finite, normal or
// subnormal) correctly rounded to nearest: it is evaluated in double-double
// arithmetic (about 100 significant bits) and rounded once.
//
// numpy's legacy gaussian calls the C library's log. Go's math.Log differs
// from glibc's by one ulp for about 5% of arguments in (0, 1); glibc's own
// log is not correctly rounded either (its documented bound is 0.52 ulp),
// but it agrees with the correctly rounded value for all but about 0.1% of
// arguments. A correctly rounded log is the platform-independent choice
// closest to every C library, so nprand uses it (see the package comment).
func logCR(x float64) float64 {
	frac, k := math.Frexp(x) // x = frac·2^k, frac in [0.5, 1)
	m := frac
	if frac < math.Sqrt2/2 {
		m = 2 * frac
		k--
	}
	// m in [√½, √2); f = m - 1 is exact (Sterbenz).
	f := m - 1
	// s = f / (2 + f), so that log(m) = 2·atanh(s) = 2·Σ s^(2i+1)/(2i+1).
	d := twoSum(2, f)
	q1 := f / d.hi
	p, pe := twoProd(q1, d.hi)
	r := (f - p) - pe - q1*d.lo
	s := quickTwoSum(q1, r/d.hi)
	s2 := ddMul(s, s)
	// |s| <= 0.1716, s² <= 0.0295: 24 terms reach 2⁻¹¹⁰ relative.
	const terms = 24
	poly := recip(2*terms - 1)
	for i := terms - 2; i >= 0; i-- {
		poly = ddAdd(ddMul(poly, s2), recip(2*i+1))
	}
	lm := ddMul(s, poly)
	lm = dd{2 * lm.hi, 2 * lm.lo}
	res := ddAdd(ddMul(dd{float64(k), 0}, ln2dd), lm)
	return res.hi + res.lo
}

// dd is an unevaluated sum hi + lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

var ln2dd = dd{0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56}

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p, e := twoProd(a.hi, b.hi)
	e += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p, e)
}

// recip returns 1/n as a double-double.
func recip(n int) dd {
	fn := float64(n)
	hi := 1 / fn
	lo := -math.FMA(hi, fn, -1) / fn
	return dd{hi, lo}
}
