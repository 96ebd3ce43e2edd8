package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/nnkern/nnkern/kernels/internal/expc"
)

// ---------------------------------------------------------------- level 1

// newAccs returns n zeroed accumulator registers.
func newAccs(t ft, n int) []VecVirtual {
	acc := make([]VecVirtual, n)
	for i := range acc {
		acc[i] = t.V()
		t.xor(acc[i], acc[i], acc[i])
	}
	return acc
}

// treeReduce combines the canonical partial sums held in acc (partial j in
// lane j mod lanes of acc[j/lanes]) by the halving tree of package canon,
// p[i] += p[i+h] for h = P/2 … 1, and returns the register whose low lane
// holds the sum: whole registers for h >= lanes, then upper half onto
// lower half inside acc[0] (hreduce). n, if not nil, holds the number of
// elements summed: a register level whose upper half no element reached
// (n <= h·lanes) only adds +0s, an exact identity, and is jumped over
// (pre names the labels), so short rows skip most of the tree.
func treeReduce(t ft, pre string, acc []VecVirtual, n Register) Register {
	for h := len(acc) / 2; h >= 1; h /= 2 {
		if n != nil {
			CMPQ(n, U32(h*t.lanes))
			JLE(LabelRef(fmt.Sprintf("%s_h%d", pre, h)))
		}
		for i := 0; i < h; i++ {
			t.add(acc[i+h], acc[i], acc[i])
		}
		if n != nil {
			Label(fmt.Sprintf("%s_h%d", pre, h))
		}
	}
	return hreduce(t, t.add, acc[0])
}

// ladder emits the remainder of a canonical reduction over vectors: fewer
// than len(acc) full vectors are left when it starts, and n counts the
// elements left. Vector j (element offset j·lanes from the current
// pointers) goes to accumulator j, so element i keeps landing in partial
// i mod P: body(j, none) for each full vector, then body(j, mask) once for
// the partial one, if any; then it jumps to done.
func ladder(t ft, name string, n Register, vecs int, done string, body func(j int, mask vmask)) {
	for j := 0; j < vecs; j++ {
		CMPQ(n, U32((j+1)*t.lanes))
		JL(LabelRef(fmt.Sprintf("%s_t%d", name, j)))
		body(j, none)
	}
	JMP(LabelRef(done))
	for j := 0; j < vecs; j++ {
		Label(fmt.Sprintf("%s_t%d", name, j))
		cnt := GP64()
		MOVQ(n, cnt)
		SUBQ(U32(j*t.lanes), cnt)
		JZ(LabelRef(done))
		body(j, loadMask(t, cnt))
		JMP(LabelRef(done))
	}
}

// reduceKernel emits a sum-like reduction Σ f(x[i], y[i]) in the canonical
// order: partial sums of P = partialsOf(t) elements in P/lanes
// accumulators (fused multiply-add for the products), blocks of P
// elements, a ladder for the rest, then the halving tree.
func reduceKernel(t ft, name string, two bool, square bool) {
	sig := fmt.Sprintf("func(x *%s, n int) %s", t.gotyp, t.gotyp)
	if two {
		sig = fmt.Sprintf("func(x, y *%s, n int) %s", t.gotyp, t.gotyp)
	}
	text(t.fn(name), sig)
	x := ptr("x")
	streams := []stream{{x, t.size}}
	var y Register
	if two {
		y = ptr("y")
		streams = append(streams, stream{y, t.size})
	}
	n := Load(Param("n"), GP64())
	n0 := GP64()
	MOVQ(n, n0)
	P := partialsOf(t)
	acc := newAccs(t, P/t.lanes)
	body := func(j int, mask vmask) {
		off := j * t.lanes
		v := t.V()
		vload(t, mem(x, t, off), mask, v)
		switch {
		case two && mask.isNone():
			t.fma231(mem(y, t, off), v, acc[j])
		case two:
			w := t.V()
			vload(t, mem(y, t, off), mask, w)
			t.fma231(w, v, acc[j])
		case square:
			t.fma231(v, v, acc[j])
		default:
			t.add(v, acc[j], acc[j])
		}
	}
	CMPQ(n, U32(P))
	JL(LabelRef("rem"))
	Label("block")
	for j := range acc {
		body(j, none)
	}
	for _, s := range streams {
		ADDQ(U32(P*s.size), s.p)
	}
	SUBQ(U32(P), n)
	CMPQ(n, U32(P))
	JGE(LabelRef("block"))
	Label("rem")
	ladder(t, "rem", n, len(acc), "sum", body)
	Label("sum")
	r := treeReduce(t, "tree", acc, n0)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// elementwise emits dst[i] = f(dst[i], x[i]) style kernels.
func binaryKernel(t ft, name string, f func(d, x Register)) {
	text(t.fn(name), fmt.Sprintf("func(dst, x *%s, n int)", t.gotyp))
	d := ptr("dst")
	x := ptr("x")
	n := Load(Param("n"), GP64())
	loop(t, "l", n, []stream{{d, t.size}, {x, t.size}}, unroll, func(j, off int, mask vmask) {
		a, b := t.V(), t.V()
		vload(t, mem(d, t, off), mask, a)
		vload(t, mem(x, t, off), mask, b)
		f(a, b)
		vstore(t, a, mask, mem(d, t, off))
	})
	VZEROUPPER()
	RET()
}

func axpyKernel(t ft) {
	text(t.fn("axpy"), fmt.Sprintf("func(a %s, x, y *%s, n int)", t.gotyp, t.gotyp))
	av := t.V()
	t.bcast(paramAddr("a"), av)
	x := ptr("x")
	y := ptr("y")
	n := Load(Param("n"), GP64())
	loop(t, "l", n, []stream{{x, t.size}, {y, t.size}}, unroll, func(j, off int, mask vmask) {
		v, w := t.V(), t.V()
		// y + a*x rounded twice, like the generic y[i] += T(a*x[i]).
		if mask.isNone() {
			t.mul(mem(x, t, off), av, v)
		} else {
			vload(t, mem(x, t, off), mask, v)
			t.mul(av, v, v)
		}
		vload(t, mem(y, t, off), mask, w)
		t.add(v, w, w)
		vstore(t, w, mask, mem(y, t, off))
	})
	VZEROUPPER()
	RET()
}

func scaleKernel(t ft) {
	text(t.fn("scale"), fmt.Sprintf("func(a %s, x *%s, n int)", t.gotyp, t.gotyp))
	av := t.V()
	t.bcast(paramAddr("a"), av)
	x := ptr("x")
	n := Load(Param("n"), GP64())
	loop(t, "l", n, []stream{{x, t.size}}, unroll, func(j, off int, mask vmask) {
		v := t.V()
		vload(t, mem(x, t, off), mask, v)
		t.mul(av, v, v)
		vstore(t, v, mask, mem(x, t, off))
	})
	VZEROUPPER()
	RET()
}

// maxKernel returns the max over non-NaN elements (-Inf if none) and
// whether x holds a NaN.
func maxKernel(t ft) {
	text(t.fn("max"), fmt.Sprintf("func(x *%s, n int) (m %s, nan bool)", t.gotyp, t.gotyp))
	x := ptr("x")
	n := Load(Param("n"), GP64())
	ninf := vconst(t, "ninf", math.Inf(-1))
	ninfv := t.V()
	t.load(ninf, ninfv)
	acc := make([]VecVirtual, unroll)
	nan := make([]vmask, unroll)
	for i := range acc {
		acc[i] = t.V()
		t.load(ninf, acc[i])
		nan[i] = zeroMask(t)
	}
	loop(t, "l", n, []stream{{x, t.size}}, unroll, func(j, off int, mask vmask) {
		v := t.V()
		vload(t, mem(x, t, off), mask, v)
		if !mask.isNone() {
			sel(t, mask, v, ninfv, v) // v = mask ? v : -Inf
		}
		maskOr(t, nan[j], cmpMask(t, cmpUNORD, v, v, none))
		t.max(v, acc[j], acc[j])
	})
	t.max(acc[1], acc[0], acc[0])
	t.max(acc[3], acc[2], acc[2])
	t.max(acc[2], acc[0], acc[0])
	maskOr(t, nan[0], nan[1])
	maskOr(t, nan[2], nan[3])
	maskOr(t, nan[0], nan[2])
	r := hreduce(t, t.max, acc[0])
	bits := maskBits(t, nan[0])
	b := GP8()
	TESTL(bits, bits)
	SETNE(b)
	VZEROUPPER()
	Store(r, Return("m"))
	Store(b, Return("nan"))
	RET()
}

// indexEqKernel returns the first i with x[i] == v, or -1.
func indexEqKernel(t ft) {
	text(t.fn("indexEq"), fmt.Sprintf("func(x *%s, n int, v %s) int", t.gotyp, t.gotyp))
	x := ptr("x")
	n := Load(Param("n"), GP64())
	i := GP64()
	XORQ(i, i)
	vv := t.V()
	t.bcast(paramAddr("v"), vv)
	bits := GP32()
	found := func(mask vmask, off int) {
		v := t.V()
		vload(t, mem(x, t, off), mask, v)
		maskBitsTo(t, cmpMask(t, cmpEQ, vv, v, mask), bits)
		TESTL(bits, bits)
	}
	Label("single")
	CMPQ(n, U32(t.lanes))
	JL(LabelRef("tail"))
	found(none, 0)
	JNZ(LabelRef("hit"))
	ADDQ(U32(t.lanes*t.size), x)
	ADDQ(U32(t.lanes), i)
	SUBQ(U32(t.lanes), n)
	JMP(LabelRef("single"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("miss"))
	found(loadMask(t, n), 0)
	JNZ(LabelRef("hit"))
	Label("miss")
	MOVQ(I32(-1), i)
	VZEROUPPER()
	Store(i, ReturnIndex(0))
	RET()
	Label("hit")
	k := GP32()
	BSFL(bits, k) // bits != 0 here
	ADDQ(k.As64(), i)
	VZEROUPPER()
	Store(i, ReturnIndex(0))
	RET()
}

func genLevel1(w vw) {
	for _, t := range typesAt(w) {
		reduceKernel(t, "dot", true, false)
		reduceKernel(t, "sum", false, false)
		reduceKernel(t, "sumsq", false, true)
		axpyKernel(t)
		scaleKernel(t)
		binaryKernel(t, "addTo", func(d, x Register) { t.add(x, d, d) })
		binaryKernel(t, "subFrom", func(d, x Register) { t.sub(x, d, d) })
		binaryKernel(t, "mulTo", func(d, x Register) { t.mul(x, d, d) })
		maxKernel(t)
		indexEqKernel(t)
	}
}

// ---------------------------------------------------------------- activations

func genAct(w vw) {
	for _, t := range typesAt(w) {
		// relu: dst = (0 > x) ? 0 : x, so NaN and -0 pass through.
		text(t.fn("relu"), fmt.Sprintf("func(dst, x *%s, n int)", t.gotyp))
		{
			d := ptr("dst")
			x := ptr("x")
			n := Load(Param("n"), GP64())
			zero := t.V()
			t.xor(zero, zero, zero)
			loop(t, "l", n, []stream{{d, t.size}, {x, t.size}}, unroll, func(j, off int, mask vmask) {
				v := t.V()
				vload(t, mem(x, t, off), mask, v)
				t.max(v, zero, v)
				vstore(t, v, mask, mem(d, t, off))
			})
			VZEROUPPER()
			RET()
		}
		// addReLU: dst = max(0, dst + b) (one row of BiasReLU).
		binaryKernel(t, "addReLU", func(d, x Register) {
			zero := t.V()
			t.xor(zero, zero, zero)
			t.add(x, d, d)
			t.max(d, zero, d)
		})
		// reluBackward: dh = (h <= 0) ? 0 : dh.
		text(t.fn("reluBackward"), fmt.Sprintf("func(dh, h *%s, n int)", t.gotyp))
		{
			d := ptr("dh")
			h := ptr("h")
			n := Load(Param("n"), GP64())
			zero := t.V()
			t.xor(zero, zero, zero)
			loop(t, "l", n, []stream{{d, t.size}, {h, t.size}}, unroll, func(j, off int, mask vmask) {
				v := t.V()
				vload(t, mem(h, t, off), mask, v)
				pos := cmpMask(t, cmpNLE, zero, v, none) // !(h <= 0): a NaN h keeps dh
				vload(t, mem(d, t, off), mask, v)
				keep(t, pos, v, v)
				vstore(t, v, mask, mem(d, t, off))
			})
			VZEROUPPER()
			RET()
		}
		u8ToFloat(t)
	}
}

// prefetchKernel: PREFETCHT0 of every 64-byte line of p[0:n] (n > 0).
func prefetchKernel() {
	text("prefetchT0", "func(p *uint8, n int)")
	p := ptr("p")
	n := Load(Param("n"), GP64())
	Label("line")
	PREFETCHT0(Mem{Base: p})
	ADDQ(U32(64), p)
	SUBQ(U32(64), n)
	JG(LabelRef("line"))
	RET()
}

// u8ToFloat: dst[i] = T(src[i]) - mean[i]. Scalar tail (bytes cannot be
// loaded with a mask).
func u8ToFloat(t ft) {
	text(t.fn("u8To"), fmt.Sprintf("func(dst *%s, src *uint8, mean *%s, n int)", t.gotyp, t.gotyp))
	d := ptr("dst")
	s := ptr("src")
	m := ptr("mean")
	n := Load(Param("n"), GP64())
	streams := []stream{{d, t.size}, {s, 1}, {m, t.size}}
	conv := func(off int, v VecVirtual) {
		if t.size == 4 {
			VPMOVZXBD(Mem{Base: s, Disp: off}, v)
			VCVTDQ2PS(v, v)
		} else {
			VPMOVZXBD(Mem{Base: s, Disp: off}, t.half(v))
			VCVTDQ2PD(t.half(v), v)
		}
	}
	Label("block")
	CMPQ(n, U32(unroll*t.lanes))
	JL(LabelRef("single"))
	for j := 0; j < unroll; j++ {
		v := t.V()
		conv(j*t.lanes, v)
		t.sub(mem(m, t, j*t.lanes), v, v)
		t.store(v, mem(d, t, j*t.lanes))
	}
	for _, st := range streams {
		ADDQ(U32(unroll*t.lanes*st.size), st.p)
	}
	SUBQ(U32(unroll*t.lanes), n)
	JMP(LabelRef("block"))
	Label("single")
	CMPQ(n, U32(t.lanes))
	JL(LabelRef("tail"))
	v := t.V()
	conv(0, v)
	t.sub(mem(m, t, 0), v, v)
	t.store(v, mem(d, t, 0))
	for _, st := range streams {
		ADDQ(U32(t.lanes*st.size), st.p)
	}
	SUBQ(U32(t.lanes), n)
	JMP(LabelRef("single"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	b := GP32()
	MOVBLZX(Mem{Base: s}, b)
	x := XMM()
	if t.size == 4 {
		VCVTSI2SSL(b, x, x)
		VSUBSS(Mem{Base: m}, x, x)
	} else {
		VCVTSI2SDL(b, x, x)
		VSUBSD(Mem{Base: m}, x, x)
	}
	t.movs(x, Mem{Base: d})
	for _, st := range streams {
		ADDQ(U32(st.size), st.p)
	}
	DECQ(n)
	JMP(LabelRef("tail"))
	Label("done")
	VZEROUPPER()
	RET()
}

// ---------------------------------------------------------------- exp

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

// rowSum returns, in the low lane of a register, the canonical sum
// (partialsOf(t) partial sums, halving tree) of a row of cols values whose
// full vectors are stored at p and whose last cols mod lanes values are in
// the lanes of tail (the other lanes zero; not used when rem == 0). p,
// cols and rem are not modified.
func rowSum(t ft, pre string, p, cols, rem Register, tail VecVirtual) Register {
	acc := newAccs(t, partialsOf(t)/t.lanes)
	A := len(acc)
	nv, q := GP64(), GP64()
	MOVQ(cols, nv)
	SHRQ(U8(shiftOf(t.lanes)), nv)
	MOVQ(p, q)
	CMPQ(nv, U32(A))
	JL(LabelRef(pre + "rem"))
	Label(pre + "block")
	for j := range acc {
		t.add(mem(q, t, j*t.lanes), acc[j], acc[j])
	}
	ADDQ(U32(A*t.w.bytes), q)
	SUBQ(U32(A), nv)
	CMPQ(nv, U32(A))
	JGE(LabelRef(pre + "block"))
	Label(pre + "rem")
	for j := range acc {
		CMPQ(nv, U32(j+1))
		JL(LabelRef(fmt.Sprintf("%st%d", pre, j)))
		t.add(mem(q, t, j*t.lanes), acc[j], acc[j])
	}
	JMP(LabelRef(pre + "sum"))
	for j := range acc {
		Label(fmt.Sprintf("%st%d", pre, j))
		TESTQ(rem, rem)
		JZ(LabelRef(pre + "sum"))
		t.add(tail, acc[j], acc[j])
		JMP(LabelRef(pre + "sum"))
	}
	Label(pre + "sum")
	return treeReduce(t, pre+"tree", acc, cols)
}

// softmaxKernel emits the row softmax. With ce it computes, per row,
// d = e^(s−m)·(1/z)·scale and stores m and z at mz[2i], mz[2i+1]; without,
// d = e^(s−m)/z. Rows are processed two at a time, their instruction
// streams interleaved (short rows are latency-bound), then a last odd row
// alone. Passes per row: max; e = exp(s − m) into d (the last partial
// vector stays in a register); z = Σe in the canonical order (rowSum, from
// the stored vectors); normalise. The broadcast row maxima and scale live
// in stack slots, and with AVX2 the tail mask too, so that two interleaved
// exps fit in the 16 YMM registers (with AVX-512 the mask stays in an
// opmask register: maskHome).
func softmaxKernel(t ft, ce bool) {
	name := t.fn("softmaxRows")
	sig := fmt.Sprintf("func(d, s *%s, rows, cols, stride int)", t.gotyp)
	if ce {
		name = t.fn("softmaxCERows")
		sig = fmt.Sprintf("func(d, s *%s, rows, cols, stride int, scale %s, mz *%s)", t.gotyp, t.gotyp, t.gotyp)
	}
	text(name, sig)
	vb := t.w.bytes
	mvLoc := AllocLocal(2 * vb)
	maskLoc := newMaskHome(t)
	var scaleLoc, mz Mem
	d := ptr("d")
	s := ptr("s")
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(U8(map[int]uint8{4: 2, 8: 3}[t.size]), stride)
	if ce {
		mz = Mem{Base: ptr("mz")}
		scaleLoc = AllocLocal(vb)
		sc := t.V()
		t.bcast(paramAddr("scale"), sc)
		t.store(sc, scaleLoc)
	}
	// Tail mask for cols % lanes (all rows share it).
	rem := GP64()
	MOVQ(cols, rem)
	ANDQ(U32(t.lanes-1), rem)
	maskLoc.set(t, zeroMask(t))
	TESTQ(rem, rem)
	JZ(LabelRef("masked"))
	maskLoc.set(t, loadMask(t, rem))
	Label("masked")
	ninf := vconst(t, "ninf", math.Inf(-1))
	off, cnt := GP64(), GP64()

	body := func(pre string, sp, dp []Register) {
		R := len(sp)
		at := func(p Register) Mem { return Mem{Base: p, Index: off, Scale: 1} }
		full := func(lbl string, f func()) {
			XORQ(off, off)
			MOVQ(cols, cnt)
			Label(pre + lbl)
			CMPQ(cnt, U32(t.lanes))
			JL(LabelRef(pre + lbl + "_tail"))
			f()
			ADDQ(U32(vb), off)
			SUBQ(U32(t.lanes), cnt)
			JMP(LabelRef(pre + lbl))
			Label(pre + lbl + "_tail")
		}
		// Pass 1: row max.
		acc := make([]VecVirtual, R)
		for r := range acc {
			acc[r] = t.V()
			t.load(ninf, acc[r])
		}
		full("max", func() {
			for r := range acc {
				t.max(at(sp[r]), acc[r], acc[r])
			}
		})
		TESTQ(rem, rem)
		JZ(LabelRef(pre + "maxdone"))
		{
			mask, ni := maskLoc.get(t), t.V()
			t.load(ninf, ni)
			for r := range acc {
				v := t.V()
				vload(t, at(sp[r]), mask, v)
				sel(t, mask, v, ni, v)
				t.max(v, acc[r], acc[r])
			}
		}
		Label(pre + "maxdone")
		for r := range acc {
			m := hreduce(t, t.max, acc[r])
			if ce {
				t.movs(m, mz.Offset(2*r*t.size))
			}
			mv := t.V()
			t.bcast(m, mv)
			t.store(mv, mvLoc.Offset(vb*r))
		}
		// Pass 2: e = exp(s − m) into d.
		full("exp", func() {
			vs := make([]VecVirtual, R)
			for r := range vs {
				vs[r] = t.V()
				t.load(at(sp[r]), vs[r])
				t.sub(mvLoc.Offset(vb*r), vs[r], vs[r])
			}
			expVecs(t, vs, true)
			for r := range vs {
				t.store(vs[r], at(dp[r]))
			}
		})
		// The tail's e stays in a register for pass 3 (one masked store
		// per row instead of two).
		etail := make([]VecVirtual, R)
		for r := range etail {
			etail[r] = t.V()
		}
		TESTQ(rem, rem)
		JZ(LabelRef(pre + "expdone"))
		{
			mask := maskLoc.get(t)
			for r := range etail {
				vload(t, at(sp[r]), mask, etail[r])
				t.sub(mvLoc.Offset(vb*r), etail[r], etail[r])
			}
			expVecs(t, etail, true)
			mask = maskLoc.get(t)
			for r := range etail {
				keep(t, mask, etail[r], etail[r])
			}
		}
		Label(pre + "expdone")
		// z = Σ e in the canonical order, from the stored full vectors and
		// the tail register.
		f := make([]VecVirtual, R)
		for r := range f {
			zs := rowSum(t, fmt.Sprintf("%sz%d", pre, r), dp[r], cols, rem, etail[r])
			// Pass 3: normalise by f = 1/z then scale (ce), or divide by z.
			f[r] = t.V()
			if ce {
				t.movs(zs, mz.Offset((2*r+1)*t.size))
				one := XMM()
				t.movs(vconst(t, "one", 1), one)
				t.divs(zs, one, one)
				t.bcast(one, f[r])
			} else {
				t.bcast(zs, f[r])
			}
		}
		apply := func(r int, v Register) {
			if ce {
				t.mul(f[r], v, v)
				t.mul(scaleLoc, v, v)
			} else {
				t.div(f[r], v, v)
			}
		}
		full("norm", func() {
			for r := range f {
				v := t.V()
				t.load(at(dp[r]), v)
				apply(r, v)
				t.store(v, at(dp[r]))
			}
		})
		TESTQ(rem, rem)
		JZ(LabelRef(pre + "normdone"))
		{
			mask := maskLoc.get(t)
			for r := range etail {
				apply(r, etail[r])
				vstore(t, etail[r], mask, at(dp[r]))
			}
		}
		Label(pre + "normdone")
		if ce {
			ADDQ(U32(2*R*t.size), mz.Base)
		}
	}

	Label("pairs")
	CMPQ(rows, U32(2))
	JL(LabelRef("single"))
	{
		s2, d2 := GP64(), GP64()
		LEAQ(Mem{Base: s, Index: stride, Scale: 1}, s2)
		LEAQ(Mem{Base: d, Index: stride, Scale: 1}, d2)
		body("p", []Register{s, s2}, []Register{d, d2})
		LEAQ(Mem{Base: s2, Index: stride, Scale: 1}, s)
		LEAQ(Mem{Base: d2, Index: stride, Scale: 1}, d)
	}
	SUBQ(U32(2), rows)
	JMP(LabelRef("pairs"))
	Label("single")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	body("s", []Register{s}, []Register{d})
	Label("done")
	VZEROUPPER()
	RET()
}

// hingeKernel emits the multiclass hinge rows. Per row i, with sy =
// s[i,y_i]: mg_j = (s_j − sy) + 1, positive margins (j ≠ y_i; a NaN margin
// counts) write d_j = scale, the others 0; out[2i] = Σ positive margins in
// float64 (so float32 sums cannot overflow), in the canonical order of
// float64 accumulators (margin j into partial j mod 32, halving tree), and
// out[2i+1] = their count. The caller sets d[i,y_i].
func hingeKernel(t ft) {
	text(t.fn("hingeRows"), fmt.Sprintf("func(d, s *%s, rows, cols, stride int, y *int, scale %s, out *float64)", t.gotyp, t.gotyp))
	d := ptr("d")
	s := ptr("s")
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(U8(map[int]uint8{4: 2, 8: 3}[t.size]), stride)
	yp := ptr("y")
	out := ptr("out")
	scale := t.V()
	t.bcast(paramAddr("scale"), scale)
	maskLoc := newMaskHome(t)
	rem := GP64()
	MOVQ(cols, rem)
	ANDQ(U32(t.lanes-1), rem)
	JZ(LabelRef("rows"))
	maskLoc.set(t, loadMask(t, rem))
	Label("rows")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	lanesIdx := laneIndex(t)
	step := iconst(t, fmt.Sprintf("lanes%d", t.lanes), uint64(t.lanes))
	one := vconst(t, "one", 1)
	zero := vconst(t, "zero", 0)
	yi := GP64()
	MOVQ(Mem{Base: yp}, yi)
	sy := t.V()
	t.bcast(Mem{Base: s, Index: yi, Scale: uint8(t.size)}, sy)
	// rel = y − (column index) per lane: the label's lane is where it is 0.
	rel := t.V()
	VMOVQ(yi, rel.AsX())
	if t.size == 4 {
		VPBROADCASTD(rel.AsX(), rel)
		VPSUBD(lanesIdx, rel, rel)
	} else {
		VPBROADCASTQ(rel.AsX(), rel)
		VPSUBQ(lanesIdx, rel, rel)
	}
	acc := newAccs(t.f64At(), partialsOf(f64)/t.f64At().lanes)
	count := GP64()
	XORQ(count, count)
	sp, dp, n := GP64(), GP64(), GP64()
	MOVQ(s, sp)
	MOVQ(d, dp)
	MOVQ(cols, n)
	// vec handles the vector at element offset j·lanes: margins, label
	// and tail masking, the float64 partials, the count and the store.
	// Its float64 lanes start at partial j·lanes mod 32.
	vec := func(j int, masked bool) {
		m := none
		if masked {
			m = maskLoc.get(t)
		}
		v := t.V()
		vload(t, mem(sp, t, j*t.lanes), m, v)
		t.sub(sy, v, v)
		t.add(one, v, v)
		pos := cmpMask(t, cmpNLE, zero, v, m) // !(margin <= 0): a NaN margin counts
		eq := icmpEqMask(t, zero, rel)
		if t.size == 4 {
			VPSUBD(step, rel, rel)
		} else {
			VPSUBQ(step, rel, rel)
		}
		pos = maskAndNot(t, pos, eq)
		keep(t, pos, v, v)
		if t.size == 4 {
			// The two halves of v in float64, partials 2j and 2j+1.
			a := (2 * j) % len(acc)
			w := t.V()
			VCVTPS2PD(t.half(v), w)
			VADDPD(w, acc[a], acc[a])
			if t.w.is512() {
				VEXTRACTF32X8(U8(1), v, w.AsY())
			} else {
				VEXTRACTF128(U8(1), v, w.AsX())
			}
			VCVTPS2PD(t.half(w), w)
			VADDPD(w, acc[a+1], acc[a+1])
		} else {
			a := j % len(acc)
			t.add(v, acc[a], acc[a])
		}
		bits := maskBits(t, pos)
		POPCNTL(bits, bits)
		ADDQ(bits.As64(), count)
		keep(t, pos, scale, v)
		vstore(t, v, m, mem(dp, t, j*t.lanes))
	}
	// Blocks of P elements (one float64 partial each), then the ladder.
	blk := partialsOf(f64)
	vecs := blk / t.lanes
	CMPQ(n, U32(blk))
	JL(LabelRef("rem"))
	Label("block")
	for j := 0; j < vecs; j++ {
		vec(j, false)
	}
	ADDQ(U32(blk*t.size), sp)
	ADDQ(U32(blk*t.size), dp)
	SUBQ(U32(blk), n)
	CMPQ(n, U32(blk))
	JGE(LabelRef("block"))
	Label("rem")
	for j := 0; j < vecs; j++ {
		CMPQ(n, U32((j+1)*t.lanes))
		JL(LabelRef(fmt.Sprintf("t%d", j)))
		vec(j, false)
	}
	JMP(LabelRef("rowdone"))
	for j := 0; j < vecs; j++ {
		Label(fmt.Sprintf("t%d", j))
		TESTQ(rem, rem)
		JZ(LabelRef("rowdone"))
		vec(j, true)
		JMP(LabelRef("rowdone"))
	}
	Label("rowdone")
	l := treeReduce(t.f64At(), "tree", acc, cols)
	VMOVSD(l, Mem{Base: out})
	c := XMM()
	VCVTSI2SDQ(count, c, c)
	VMOVSD(c, Mem{Base: out, Disp: 8})
	ADDQ(U32(16), out)
	ADDQ(U32(8), yp)
	ADDQ(stride, s)
	ADDQ(stride, d)
	DECQ(rows)
	JMP(LabelRef("rows"))
	Label("done")
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
