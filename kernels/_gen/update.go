package main

// The update family (update_amd64.s): one elementwise step of the
// momentum, rmsprop and adam update rules (MomentumStep, RMSPropStep,
// AdamStep). Every lane computes the generic Go expression operation for
// operation, with the correctly rounded IEEE instructions only (VMUL,
// VADD, VSUB, VDIV, VSQRT): each product rounded on its own, never a fused
// multiply-add, a reciprocal estimate or a reassociation, so every lane
// gives the generic Go's bits. Each instruction's first source is the
// Go expression's left operand, which decides which NaN an operation
// with two NaN operands returns; the contract leaves that open all the
// same, as the compiler may swap a commutative operation's operands.
//
// The tails load with the mask (the other lanes zero), compute every lane
// and store with the mask: the zero lanes may turn into NaN (0/0) but are
// never stored. The gradient is named dw, as in optim.py, because g is
// the name of a register in Go's assembler.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func genUpdate(w vw) {
	for _, t := range typesAt(w) {
		momentumKernel(t)
		rmspropKernel(t)
		adamKernel(t)
	}
}

// sqrt sets dst = √a, correctly rounded.
func sqrt(t ft, a, dst Op) {
	if t.size == 4 {
		VSQRTPS(a, dst)
	} else {
		VSQRTPD(a, dst)
	}
}

// scalars broadcasts the named scalar arguments into registers.
func scalars(t ft, names ...string) map[string]VecVirtual {
	r := map[string]VecVirtual{}
	for _, n := range names {
		r[n] = t.V()
		t.bcast(paramAddr(n), r[n])
	}
	return r
}

// momentumKernel: v = mu·v − lr·g; w += v.
func momentumKernel(t ft) {
	text(t.fn("momentumStep"), fmt.Sprintf("func(w, dw, v *%s, n int, lr, mu %s)", t.gotyp, t.gotyp))
	w, g, v := ptr("w"), ptr("dw"), ptr("v")
	n := Load(Param("n"), GP64())
	c := scalars(t, "lr", "mu")
	loop(t, "l", n, []stream{{w, t.size}, {g, t.size}, {v, t.size}}, unroll, func(j, off int, mask vmask) {
		a, b := t.V(), t.V()
		vload(t, mem(v, t, off), mask, a)
		t.mul(a, c["mu"], a) // mu·v
		vload(t, mem(g, t, off), mask, b)
		t.mul(b, c["lr"], b) // lr·g
		t.sub(b, a, a)       // mu·v − lr·g
		vstore(t, a, mask, mem(v, t, off))
		vload(t, mem(w, t, off), mask, b)
		t.add(a, b, b) // w + v
		vstore(t, b, mask, mem(w, t, off))
	})
	VZEROUPPER()
	RET()
}

// rmspropKernel: c = d·c + k·(g·g); w −= (lr·g) / (√c + eps).
func rmspropKernel(t ft) {
	text(t.fn("rmspropStep"), fmt.Sprintf("func(w, dw, c *%s, n int, lr, d, k, eps %s)", t.gotyp, t.gotyp))
	w, g, cp := ptr("w"), ptr("dw"), ptr("c")
	n := Load(Param("n"), GP64())
	c := scalars(t, "lr", "d", "k", "eps")
	loop(t, "l", n, []stream{{w, t.size}, {g, t.size}, {cp, t.size}}, unroll, func(j, off int, mask vmask) {
		gv, a, b := t.V(), t.V(), t.V()
		vload(t, mem(g, t, off), mask, gv)
		vload(t, mem(cp, t, off), mask, a)
		t.mul(a, c["d"], a) // d·c
		t.mul(gv, gv, b)    // g·g
		t.mul(b, c["k"], b) // k·(g·g)
		t.add(b, a, a)      // c' = d·c + k·(g·g)
		vstore(t, a, mask, mem(cp, t, off))
		sqrt(t, a, a)          // √c'
		t.add(c["eps"], a, a)  // √c' + eps
		t.mul(gv, c["lr"], gv) // lr·g
		t.div(a, gv, gv)       // (lr·g) / (√c' + eps)
		vload(t, mem(w, t, off), mask, b)
		t.sub(gv, b, b) // w − …
		vstore(t, b, mask, mem(w, t, off))
	})
	VZEROUPPER()
	RET()
}

// adamKernel: m = b1·m + k1·g; v = b2·v + k2·(g·g);
// w −= (lr·(m/c1)) / (√(v/c2) + eps).
func adamKernel(t ft) {
	text(t.fn("adamStep"), fmt.Sprintf("func(w, dw, m, v *%s, n int, lr, b1, k1, b2, k2, c1, c2, eps %s)", t.gotyp, t.gotyp))
	w, g, mp, vp := ptr("w"), ptr("dw"), ptr("m"), ptr("v")
	n := Load(Param("n"), GP64())
	c := scalars(t, "lr", "b1", "k1", "b2", "k2", "c1", "c2", "eps")
	streams := []stream{{w, t.size}, {g, t.size}, {mp, t.size}, {vp, t.size}}
	loop(t, "l", n, streams, unroll, func(j, off int, mask vmask) {
		gv, m, v, a := t.V(), t.V(), t.V(), t.V()
		vload(t, mem(g, t, off), mask, gv)
		vload(t, mem(mp, t, off), mask, m)
		t.mul(m, c["b1"], m)  // b1·m
		t.mul(gv, c["k1"], a) // k1·g
		t.add(a, m, m)        // m' = b1·m + k1·g
		vstore(t, m, mask, mem(mp, t, off))
		vload(t, mem(vp, t, off), mask, v)
		t.mul(v, c["b2"], v) // b2·v
		t.mul(gv, gv, gv)    // g·g
		t.mul(gv, c["k2"], gv)
		t.add(gv, v, v) // v' = b2·v + k2·(g·g)
		vstore(t, v, mask, mem(vp, t, off))
		t.div(c["c2"], v, v)  // v'/c2
		sqrt(t, v, v)         // √(v'/c2)
		t.add(c["eps"], v, v) // √(v'/c2) + eps
		t.div(c["c1"], m, m)  // m'/c1
		t.mul(m, c["lr"], m)  // lr·(m'/c1)
		t.div(v, m, m)        // (lr·(m'/c1)) / (√(v'/c2) + eps)
		vload(t, mem(w, t, off), mask, a)
		t.sub(m, a, a) // w − …
		vstore(t, a, mask, mem(w, t, off))
	})
	VZEROUPPER()
	RET()
}
