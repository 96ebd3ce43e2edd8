package main

// The uint8 → float conversion of the act family (act_amd64.s): dst =
// T(src) − mean, how a mini-batch row of uint8 pixels is gathered.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
