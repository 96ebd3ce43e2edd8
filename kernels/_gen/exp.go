package main

// The exp family (exp_amd64.s): the vectorised exp, and genExp, which
// also emits the softmax and hinge row kernels (rows.go) that use it.

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/nnkern/nnkern/kernels/internal/expc"
)

// Exp constants. The algorithm (mirrored bit for bit by expGeneric32/64 in
// exp.go): clamp x to [lo, hi]; n = round(x·log2e) by adding a magic
// number; r = x − n·ln2hi − n·ln2lo; e^r = 1 + (r + r²·q(r)) with q a
// Chebyshev fit of (e^r−1−r)/r² on |r| ≤ ln2/2; scale by 2^(n>>1)·2^(n−n>>1);
// 0 for x < lo, +Inf for x > hi.
type expParams struct {
	lo, hi, log2e, magic, ln2hi, ln2lo float64
	magicBits                          uint64
	bias                               uint64
	shift                              int
	c                                  []float64 // c2, c3, ...
}

var exp64 = expParams{
	lo: expc.Lo64, hi: expc.Hi64,
	log2e: expc.Log2e64, magic: expc.Magic64,
	ln2hi: expc.Ln2Hi64, ln2lo: expc.Ln2Lo64,
	bias: expc.Bias64, shift: expc.Shift64,
	c: expc.C64,
}

var exp32 = expParams{
	lo: expc.Lo32, hi: expc.Hi32,
	log2e: expc.Log2e32, magic: expc.Magic32,
	ln2hi: expc.Ln2Hi32, ln2lo: expc.Ln2Lo32,
	magicBits: expc.MagicBits,
	bias:      expc.Bias32, shift: expc.Shift32,
	c: expc.C32,
}

func expParamsFor(t ft) expParams {
	if t.size == 4 {
		return exp32
	}
	return exp64
}

// expVecs replaces each register of xs by e^x, interleaving the vectors'
// instruction streams. With nonPositive the caller guarantees x <= 0 or NaN
// (softmax arguments s − max), and the clamp to hi and the +Inf case, which
// cannot change such an x's result, are left out.
func expVecs(t ft, xs []VecVirtual, nonPositive ...bool) {
	np := len(nonPositive) > 0 && nonPositive[0]
	p := expParamsFor(t)
	k := len(xs)
	each := func(f func(i int)) {
		for i := 0; i < k; i++ {
			f(i)
		}
	}
	xc, tt, nf, r, r2, q := make([]VecVirtual, k), make([]VecVirtual, k), make([]VecVirtual, k), make([]VecVirtual, k), make([]VecVirtual, k), make([]VecVirtual, k)
	each(func(i int) {
		xc[i], tt[i], nf[i], r[i], r2[i], q[i] = t.V(), t.V(), t.V(), t.V(), t.V(), t.V()
	})
	// xc = min(hi, max(lo, x)), NaN passes through.
	each(func(i int) { t.load(vconst(t, "explo", p.lo), xc[i]) })
	each(func(i int) { t.max(xs[i], xc[i], xc[i]) })
	if !np {
		each(func(i int) { t.load(vconst(t, "exphi", p.hi), r[i]) })
		each(func(i int) { t.min(xc[i], r[i], xc[i]) })
	}
	// t = xc·log2e + magic; nf = t − magic.
	each(func(i int) { t.load(vconst(t, "magic", p.magic), tt[i]) })
	each(func(i int) { t.fma231(vconst(t, "log2e", p.log2e), xc[i], tt[i]) })
	each(func(i int) { t.sub(vconst(t, "magic", p.magic), tt[i], nf[i]) })
	// r = xc − nf·ln2hi − nf·ln2lo.
	each(func(i int) { t.fnma231(vconst(t, "ln2hi", p.ln2hi), nf[i], xc[i]) })
	each(func(i int) { t.fnma231(vconst(t, "ln2lo", p.ln2lo), nf[i], xc[i]) })
	each(func(i int) { t.mul(xc[i], xc[i], r2[i]) })
	// q = Horner(c_top … c2).
	top := len(p.c) - 1
	each(func(i int) { t.load(vconst(t, fmt.Sprintf("expc%d", top+2), p.c[top]), q[i]) })
	for j := top - 1; j >= 0; j-- {
		c := vconst(t, fmt.Sprintf("expc%d", j+2), p.c[j])
		each(func(i int) { t.fma213(c, xc[i], q[i]) })
	}
	// p = 1 + (r + r²·q).
	each(func(i int) { t.fma213(xc[i], r2[i], q[i]) })
	each(func(i int) { t.add(vconst(t, "one", 1), q[i], q[i]) })
	// Integer n in the low 32 bits of each element of tt.
	if t.size == 4 {
		each(func(i int) { VPSUBD(iconst(t, "magicbits", p.magicBits), tt[i], tt[i]) })
	}
	// h = n>>1 (nf reused), g = n − h (r reused).
	each(func(i int) { VPSRAD(U8(1), tt[i], nf[i]) })
	each(func(i int) { VPSUBD(nf[i], tt[i], r[i]) })
	bias := iconst(t, "expbias", p.bias)
	each(func(i int) { VPADDD(bias, nf[i], nf[i]) })
	each(func(i int) { VPADDD(bias, r[i], r[i]) })
	if t.size == 4 {
		each(func(i int) { VPSLLD(U8(p.shift), nf[i], nf[i]) })
		each(func(i int) { VPSLLD(U8(p.shift), r[i], r[i]) })
	} else {
		each(func(i int) { VPSLLQ(U8(p.shift), nf[i], nf[i]) })
		each(func(i int) { VPSLLQ(U8(p.shift), r[i], r[i]) })
	}
	each(func(i int) { t.mul(nf[i], q[i], q[i]) })
	each(func(i int) { t.mul(r[i], q[i], q[i]) })
	// 0 below lo, +Inf above hi.
	inRange := make([]vmask, k) // !(x < lo): NaN included
	each(func(i int) { inRange[i] = cmpMask(t, cmpNLT, vconst(t, "explo", p.lo), xs[i], none) })
	if np {
		each(func(i int) { keep(t, inRange[i], q[i], xs[i]) })
		return
	}
	each(func(i int) { keep(t, inRange[i], q[i], q[i]) })
	each(func(i int) {
		sel(t, cmpMask(t, cmpGT, vconst(t, "exphi", p.hi), xs[i], none), vconst(t, "pinf", math.Inf(1)), q[i], xs[i])
	})
}

const expUnroll = 2

func expKernel(t ft) {
	text(t.fn("exp"), fmt.Sprintf("func(dst, x *%s, n int)", t.gotyp))
	d := ptr("dst")
	x := ptr("x")
	n := Load(Param("n"), GP64())
	var block []VecVirtual
	loop(t, "l", n, []stream{{d, t.size}, {x, t.size}}, expUnroll, func(j, off int, mask vmask) {
		v := t.V()
		vload(t, mem(x, t, off), mask, v)
		if j < loopGroup-1 {
			block = append(block, v)
			return
		}
		vs := append(block, v)
		block = nil
		expVecs(t, vs)
		for i, v := range vs {
			vstore(t, v, mask, mem(d, t, off-(len(vs)-1-i)*t.lanes))
		}
	})
	VZEROUPPER()
	RET()
}

func genExp(w vw) {
	for _, t := range typesAt(w) {
		expKernel(t)
		softmaxKernel(t, false)
		softmaxKernel(t, true)
		hingeKernel(t)
	}
}
