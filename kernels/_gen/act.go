package main

// The activation family (act_amd64.s): ReLU, its backward mask, AddReLU,
// the uint8 conversion (u8.go) and Prefetch.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
