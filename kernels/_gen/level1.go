package main

// The level-1 family (level1_amd64.s): the canonical reductions (Dot, Sum,
// SumSq), AddTo, SubFrom, MulTo, Axpy, Scale, Max and ArgMax's search for
// the maximum's index (indexEq).

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// ladder emits the remainder of a canonical reduction over vectors: fewer
// than len(acc) full vectors are left when it starts, and n counts the
// elements left. Vector j (element offset j·lanes from the current
// pointers) goes to accumulator j, so element i keeps landing in partial
// i mod P: body(j, none) for each full vector, then body(j, mask) once for
// the partial one, if any; then it jumps to done.
func ladder(t ft, name string, n Register, vecs int, done string, body func(j int, mask vmask)) {
	ladderMask(t, name, n, vecs, done, func(cnt Register) vmask { return loadMask(t, cnt) }, body)
}

// ladderMask is ladder with the tail's mask made by mask from the count of
// elements left (sumsq64's float32 input wants float32 lanes' masks while
// it counts in float64 vectors).
func ladderMask(t ft, name string, n Register, vecs int, done string, mask func(cnt Register) vmask, body func(j int, mask vmask)) {
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
		body(j, mask(cnt))
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

// sumSq64Kernel emits Σ float64(x[i])² accumulated in float64 in the
// canonical order of float64 partial sums (P = 32, element i into partial
// i mod P, the halving tree), for float32 or float64 x: a = float64 at t's
// width holds the partials, one register of a per a.lanes elements.
// float32 elements are widened on load (VCVTPS2PD from half a register of
// memory) and their square fused into the partial, which is exact, so the
// same bits as the generic product-then-add; float64 elements are squared
// with rounding, then added (no fusion), as the generic p += float64(v*v).
func sumSq64Kernel(t ft) {
	text(t.fn("sumsq64"), fmt.Sprintf("func(x *%s, n int) float64", t.gotyp))
	a := t.f64At()
	x := ptr("x")
	n := Load(Param("n"), GP64())
	n0 := GP64()
	MOVQ(n, n0)
	P := partialsOf(a)
	acc := newAccs(a, P/a.lanes)
	// The tail's mask: over float32 lanes for float32 input at AVX2 width
	// (VMASKMOVPS of the low XMM, then a register convert), else over the
	// float64 lanes (an AVX-512 K mask serves both element widths).
	mk := func(cnt Register) vmask {
		if t.size == 4 && !t.w.is512() {
			return loadMask(t, cnt)
		}
		return loadMask(a, cnt)
	}
	body := func(j int, mask vmask) {
		off := j * a.lanes
		v := a.V()
		if t.size == 8 {
			vload(a, mem(x, t, off), mask, v)
			a.mul(v, v, v)
			a.add(v, acc[j], acc[j])
			return
		}
		switch {
		case mask.isNone():
			VCVTPS2PD(mem(x, t, off), v)
		case t.w.is512():
			VCVTPS2PD_Z(mem(x, t, off), mask.k, v)
		default:
			h := XMM()
			VMASKMOVPS(mem(x, t, off), mask.v.AsX(), h)
			VCVTPS2PD(h, v)
		}
		a.fma231(v, v, acc[j])
	}
	CMPQ(n, U32(P))
	JL(LabelRef("rem"))
	Label("block")
	for j := range acc {
		body(j, none)
	}
	ADDQ(U32(P*t.size), x)
	SUBQ(U32(P), n)
	CMPQ(n, U32(P))
	JGE(LabelRef("block"))
	Label("rem")
	ladderMask(a, "rem", n, len(acc), "sum", mk, body)
	Label("sum")
	r := treeReduce(a, "tree", acc, n0)
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
		sumSq64Kernel(t)
		axpyKernel(t)
		scaleKernel(t)
		binaryKernel(t, "addTo", func(d, x Register) { t.add(x, d, d) })
		binaryKernel(t, "subFrom", func(d, x Register) { t.sub(x, d, d) })
		binaryKernel(t, "mulTo", func(d, x Register) { t.mul(x, d, d) })
		maxKernel(t)
		indexEqKernel(t)
	}
}
