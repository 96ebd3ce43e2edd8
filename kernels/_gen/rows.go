package main

// The row kernels of the exp family (exp_amd64.s): the canonical row
// sum, softmax (with the cross-entropy variant) and the hinge rows.

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

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
