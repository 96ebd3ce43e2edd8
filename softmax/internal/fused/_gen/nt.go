package main

import (
	"bytes"
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// ---------------------------------------------------------------- NT

// The dot-product kernels of MulAddNT (C += A·Bᵀ, A and B row-major with
// k along their rows) keep, for each element of C, L = 16 (float32) or 8
// (float64) lane sums, lane l summing the products of the p ≡ l (mod L)
// by VFMADD in increasing p, then reduce them by the tree
//
//	for h := L/2; h >= 1; h /= 2 { s[l] += s[l+h] for l < h }
//
// and add s[0] to C. L·size is 64 bytes for both types: one ZMM register
// per element of C at AVX-512, two YMM registers (lanes 0..L/2-1 and
// L/2..L-1) at AVX2, so both levels share this generator with the vector
// width a parameter, and a step of the k loop advances every pointer by 64
// bytes. The first step of the tree adds the upper half of the lanes to
// the lower one: the upper 256 bits of the ZMM, or the second YMM; the
// rest runs on one YMM alike (upper 128 bits, then lanes 2..3 (float32),
// then lane 1).
//
// The last k mod L values of p go through masked loads of A and B that
// read zeros in the lanes past k (without touching that memory): such a
// lane adds fma(+0, +0, s) = +0 + s = s, which is s exactly since a lane
// sum is never -0 (it starts at +0, and an exact zero sum of two values of
// which one is +0 or of opposite signs rounds to +0), and is s for NaN and
// ±Inf. So the masked step gives each lane what the loop over the
// remaining p gives it.

// ntLevel describes one ISA level's kernels.
type ntLevel struct {
	suffix string // "" (AVX2) or "AVX512"
	halves int    // vector registers per element of C: 2 YMM or 1 ZMM
	maxR   int    // the register blocking: rows of A ...
	maxC   int    // ... times rows of B
}

// ntLevels: AVX2 has 16 YMM registers: 2·r·c accumulators, r registers of
// A, one of B and one mask register (tail), so 2 rows × 3 columns;
// AVX-512 has 32 ZMM registers: r·c accumulators, r of A and one of B, so
// 4 rows × 5 columns (9 loads per 20 FMAs, and 4 rows of A streaming from
// memory at a time; 2 × 10 needs 12 loads and streams 2).
var ntLevels = []ntLevel{{"", 2, 2, 3}, {"AVX512", 1, 4, 5}}

// ntRowAddr addresses row i of a matrix through a base register per 4
// rows (see ntRowBases), plus disp bytes.
func ntRowAddr(bases []reg.Register, ld, ld3 reg.Register, i, disp int) Mem {
	base := bases[i/4]
	switch i % 4 {
	case 0:
		return Mem{Base: base, Disp: disp}
	case 1:
		return Mem{Base: base, Index: ld, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: base, Index: ld, Scale: 2, Disp: disp}
	default:
		return Mem{Base: base, Index: ld3, Scale: 1, Disp: disp}
	}
}

// ntRowBases returns the base registers first + 4j·ld of rows rows with
// row stride ld (bytes), and 3·ld when a row needs it.
func ntRowBases(first, ld reg.Register, rows int) (bases []reg.Register, ld3 reg.Register) {
	if rows > 3 {
		ld3 = GP64()
		LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	}
	bases = []reg.Register{first}
	for j := 4; j < rows; j += 4 {
		p := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: ld, Scale: 4}, p)
		bases = append(bases, p)
	}
	return bases, ld3
}

// ntUName names genNTU's kernels: the AVX512 suffix last, as on every
// kernel of that level.
func ntUName(e elem, r, nc int) string {
	return fmt.Sprintf("nt%sR%dC%dUAVX512", e.name, r, nc)
}

func ntName(e elem, lv ntLevel, r, nc int) string {
	return fmt.Sprintf("nt%sR%dC%d%s", e.name, r, nc, lv.suffix)
}

// genNT emits the kernel for r rows of A (and C) and nc rows of B (columns
// of C): nk full steps of L values of p, then, at AVX-512, one masked step
// with the lanes the opmask tail selects (none if tail == 0), or at AVX2
// with the lane masks at mask[0:L] (no step if mask is nil).
func genNT(e elem, lv ntLevel, r, nc int) {
	nm := ntName(e, lv, r, nc)
	is512 := lv.halves == 1
	tailArg := fmt.Sprintf("mask *%s", e.masktyp)
	if is512 {
		tailArg = "tail int"
	}
	TEXT(nm, NOSPLIT, fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b *%[1]s, ldb int, nk int, %[2]s)", e.gotyp, tailArg))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds A·Bᵀ to C for %d rows of A and %d rows of B: nk steps of %d values of p, then the masked tail step.", nm, r, nc, 64>>e.shift))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), lda)
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	cnt := Load(Param("nk"), GP64())

	aBases, lda3 := ntRowBases(a, lda, r)
	bases, ldb3 := ntRowBases(b, ldb, nc)
	aAddr := func(i, disp int) Mem { return ntRowAddr(aBases, lda, lda3, i, disp) }
	bAddr := func(j, disp int) Mem { return ntRowAddr(bases, ldb, ldb3, j, disp) }

	vec := func() reg.VecVirtual {
		if is512 {
			return ZMM()
		}
		return YMM()
	}
	acc := make([][][]reg.VecVirtual, r)
	for i := range acc {
		acc[i] = make([][]reg.VecVirtual, nc)
		for j := range acc[i] {
			for h := 0; h < lv.halves; h++ {
				acc[i][j] = append(acc[i][j], vec())
			}
		}
	}
	for i := range acc {
		for j := range acc[i] {
			for _, v := range acc[i][j] {
				VXORPS(v, v, v)
			}
		}
	}
	areg := make([]reg.VecVirtual, r)
	for i := range areg {
		areg[i] = vec()
	}
	breg := vec()
	vbytes := 64 / lv.halves

	// step emits one step of L values of p; load(m, dst) loads a vector
	// (half h of the lanes) from m.
	step := func(load func(h int, m Mem, dst reg.VecVirtual)) {
		for h := 0; h < lv.halves; h++ {
			for i := 0; i < r; i++ {
				load(h, aAddr(i, h*vbytes), areg[i])
			}
			for j := 0; j < nc; j++ {
				load(h, bAddr(j, h*vbytes), breg)
				for i := 0; i < r; i++ {
					e.fma(breg, areg[i], acc[i][j][h])
				}
			}
		}
	}

	TESTQ(cnt, cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	step(func(h int, m Mem, dst reg.VecVirtual) { e.load(m, dst) })
	for _, p := range append(aBases, bases...) {
		ADDQ(U8(64), p)
	}
	DECQ(cnt)
	JNZ(LabelRef("loop"))

	Label("tail")
	if is512 {
		// AVX-512 only: the tail through zero-masking opmask loads.
		km := K()
		tb := GP64()
		Load(Param("tail"), tb)
		TESTQ(tb, tb)
		JZ(LabelRef("reduce"))
		KMOVW(tb.As32(), km)
		step(func(h int, m Mem, dst reg.VecVirtual) { e.loadZ(m, km, dst) })
	} else {
		mp := Load(Param("mask"), GP64())
		TESTQ(mp, mp)
		JZ(LabelRef("reduce"))
		mask := YMM()
		loaded := -1
		step(func(h int, m Mem, dst reg.VecVirtual) {
			if loaded != h {
				VMOVDQU(Mem{Base: mp, Disp: 32 * h}, mask)
				loaded = h
			}
			e.maskmov(m, mask, dst)
		})
	}

	Label("reduce")
	ntReduce(e, is512, acc, c, ldc, breg)
	VZEROUPPER()
	RET()
}

// genNTU emits the AVX-512 kernel for r rows of A that need not start on
// a 64-byte line (ntUName): the same sums as genNT's, with each
// step's vector of a row of A built from the two lines it spans. A row
// that starts off a line (the public loss's X: D = 3073 float32 puts row
// i at 4·i bytes past one) makes every 64-byte load of genNT's loop a load
// across two lines, which on Intel Emerald Rapids cost a hot 32-row block
// of the loss's scores ~15% of its speed (docs/performance.md). Here row i
// is read only as whole lines: step s's vector p_i[sL : sL+L] is the
// two-table permute (VPERMT2PS/PD, AVX-512 F) of the line before it and
// the line ahead, the line that holds its last element, by the index
// vector o_i/size, o_i/size+1, ..., where o_i in (0, 64] is how far past
// the line before the row starts: exactly the elements of the vector in
// their lanes, so the FMAs and the bits are genNT's. The index vectors are
// iota[o_i/size:] of the table iota (0, 1, ..., 2L−1) the caller passes,
// o_i bytes into it since its elements are size bytes. Every line loaded
// holds an element of the row (a row on a line boundary, o_i = 64, takes
// all lanes from the line ahead and never loads the line before it), so
// no load leaves the row's pages. The masked tail step is genNT's (one
// load across two lines per row at most).
func genNTU(e elem, r, nc int) {
	lv := ntLevels[1]
	nm := ntUName(e, r, nc)
	TEXT(nm, NOSPLIT, fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b *%[1]s, ldb int, nk int, tail int, iota *%[2]s)", e.gotyp, e.masktyp))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is %s for rows of A at any alignment: the lines of A loaded aligned and permuted into each step's vectors.", nm, ntName(e, lv, r, nc)))
	perm := VPERMT2PS
	if e.shift == 3 {
		perm = VPERMT2PD
	}
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), lda)
	io := Load(Param("iota"), GP64())
	q := make([]reg.GPVirtual, r)    // the line before each step's line ahead
	idx := make([]reg.VecVirtual, r) // the row's permute indices
	cur := make([]reg.VecVirtual, r) // the line before, then the step's vector
	for i := range q {
		// p_i = a + i·lda; q_i = the line of p_i − size, so that the line
		// ahead q_i + 64 holds p_i's first element even when p_i starts
		// a line (then the step's vector is all the line ahead's, o_i = 64)
		q[i] = GP64()
		MOVQ(a, q[i])
		SUBQ(U8(1<<e.shift), q[i])
		ANDQ(I8(-64), q[i])
		o := GP64()
		MOVQ(a, o)
		SUBQ(q[i], o)
		idx[i] = ZMM()
		VMOVDQU32(Mem{Base: io, Index: o, Scale: 1}, idx[i])
		// the line of p_i: q_i's (o_i < 64), or one the permute ignores
		// (o_i = 64), never a line without an element of the row
		MOVQ(a, o)
		ANDQ(I8(-64), o)
		cur[i] = ZMM()
		e.load(Mem{Base: o}, cur[i])
		if i < r-1 {
			ADDQ(lda, a)
		}
	}
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	cnt := Load(Param("nk"), GP64())
	bases, ldb3 := ntRowBases(b, ldb, nc)
	bAddr := func(j, disp int) Mem { return ntRowAddr(bases, ldb, ldb3, j, disp) }

	acc := make([][][]reg.VecVirtual, r)
	for i := range acc {
		acc[i] = make([][]reg.VecVirtual, nc)
		for j := range acc[i] {
			acc[i][j] = []reg.VecVirtual{ZMM()}
			VXORPS(acc[i][j][0], acc[i][j][0], acc[i][j][0])
		}
	}
	breg := ZMM()
	// fmas adds the products of the A vectors in cur and the B vectors
	// that load loads.
	fmas := func(load func(m Mem, dst reg.VecVirtual)) {
		for j := 0; j < nc; j++ {
			load(bAddr(j, 0), breg)
			for i := 0; i < r; i++ {
				e.fma(breg, cur[i], acc[i][j][0])
			}
		}
	}

	TESTQ(cnt, cnt)
	JZ(LabelRef("tail"))
	Label("loop")
	for i := range q {
		// cur[i] = lanes o_i/size.. of (line before, line ahead)
		perm(Mem{Base: q[i], Disp: 64}, idx[i], cur[i])
	}
	fmas(func(m Mem, dst reg.VecVirtual) { e.load(m, dst) })
	for i := range q {
		e.load(Mem{Base: q[i], Disp: 64}, cur[i])
		ADDQ(U8(64), q[i])
	}
	for _, p := range bases {
		ADDQ(U8(64), p)
	}
	DECQ(cnt)
	JNZ(LabelRef("loop"))

	Label("tail")
	tb := GP64()
	Load(Param("tail"), tb)
	TESTQ(tb, tb)
	JZ(LabelRef("reduce"))
	km := K()
	KMOVW(tb.As32(), km)
	// the rows of A at p_i + 64·nk, as genNT's tail step loads them
	ta := Load(Param("a"), GP64())
	tlda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), tlda)
	tk := Load(Param("nk"), GP64())
	SHLQ(U8(6), tk)
	ADDQ(tk, ta)
	aBases, lda3 := ntRowBases(ta, tlda, r)
	for i := 0; i < r; i++ {
		e.loadZ(ntRowAddr(aBases, tlda, lda3, i, 0), km, cur[i])
	}
	fmas(func(m Mem, dst reg.VecVirtual) { e.loadZ(m, km, dst) })

	Label("reduce")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	ntReduce(e, true, acc, c, ldc, breg)
	VZEROUPPER()
	RET()
}

// ntReduce reduces each element's lane sums acc[i][j] by the tree of the
// NT kernels and adds lane 0 to C (row i at c + i·ldc bytes, column j);
// t is a scratch vector register.
func ntReduce(e elem, is512 bool, acc [][][]reg.VecVirtual, c, ldc reg.Register, t reg.VecVirtual) {
	for i := range acc {
		for j := range acc[i] {
			s := acc[i][j]
			var y reg.VecVirtual
			if is512 {
				// lanes l += l+L/2: the upper 256 bits onto the lower
				VEXTRACTF64X4(U8(1), s[0], t.AsY())
				y = s[0]
				e.add(t.AsY(), y.AsY(), y.AsY())
				VEXTRACTF32X4(U8(1), y.AsY(), t.AsX())
			} else {
				// lanes l += l+L/2: the second YMM onto the first
				y = s[0]
				e.add(s[1], y, y)
				VEXTRACTF128(U8(1), y, t.AsX())
			}
			x := y.AsX()
			e.add(t.AsX(), x, x) // l += l+L/4
			if e.shift == 2 {
				VMOVHLPS(x, x, t.AsX()) // lanes 2, 3 to 0, 1
				VADDPS(t.AsX(), x, x)   // l += l+2
				VMOVSHDUP(x, t.AsX())   // lane 1 to 0
				VADDSS(t.AsX(), x, x)   // l += l+1
				VADDSS(Mem{Base: c, Disp: 4 * j}, x, x)
				VMOVSS(x, Mem{Base: c, Disp: 4 * j})
			} else {
				VPERMILPD(U8(1), x, t.AsX()) // lane 1 to 0
				VADDSD(t.AsX(), x, x)        // l += l+1
				VADDSD(Mem{Base: c, Disp: 8 * j}, x, x)
				VMOVSD(x, Mem{Base: c, Disp: 8 * j})
			}
		}
		if i < len(acc)-1 {
			ADDQ(ldc, c)
		}
	}
}

// genNTAll emits every NT kernel and their dispatch tables into tb:
// nt<T><suffix>[r-1][nc-1].
func genNTAll(tb *bytes.Buffer) {
	for _, lv := range ntLevels {
		for _, e := range elems {
			tailArg := fmt.Sprintf("mask *%s", e.masktyp)
			if lv.halves == 1 {
				tailArg = "tail int"
			}
			tbl := fmt.Sprintf("nt%s%s", e.name, lv.suffix)
			fmt.Fprintf(tb, "// %s[r-1][nc-1] is the %s MulAddNT kernel for r rows of A and nc rows of B.\n", tbl, e.gotyp)
			fmt.Fprintf(tb, "var %s = [%d][%d]func(c *%[4]s, ldc int, a *%[4]s, lda int, b *%[4]s, ldb int, nk int, %[5]s){\n", tbl, lv.maxR, lv.maxC, e.gotyp, tailArg)
			for r := 1; r <= lv.maxR; r++ {
				fmt.Fprintf(tb, "\t{")
				for nc := 1; nc <= lv.maxC; nc++ {
					genNT(e, lv, r, nc)
					if nc > 1 {
						fmt.Fprintf(tb, ", ")
					}
					fmt.Fprintf(tb, "%s", ntName(e, lv, r, nc))
				}
				fmt.Fprintf(tb, "},\n")
			}
			fmt.Fprintf(tb, "}\n\n")
			if lv.halves != 1 {
				continue
			}
			fmt.Fprintf(tb, "// %sU[r-1][nc-1] is %s[r-1][nc-1] for rows of A at any alignment (iota: ntIota%s).\n", tbl, tbl, e.name[1:])
			fmt.Fprintf(tb, "var %sU = [%d][%d]func(c *%[4]s, ldc int, a *%[4]s, lda int, b *%[4]s, ldb int, nk int, tail int, iota *%[5]s){\n", tbl, lv.maxR, lv.maxC, e.gotyp, e.masktyp)
			for r := 1; r <= lv.maxR; r++ {
				fmt.Fprintf(tb, "\t{")
				for nc := 1; nc <= lv.maxC; nc++ {
					genNTU(e, r, nc)
					if nc > 1 {
						fmt.Fprintf(tb, ", ")
					}
					fmt.Fprintf(tb, "%s", ntUName(e, r, nc))
				}
				fmt.Fprintf(tb, "},\n")
			}
			fmt.Fprintf(tb, "}\n\n")
		}
	}
}
