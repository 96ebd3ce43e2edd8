// Command _gen generates the AVX2+FMA and AVX-512 panel kernels of package
// fused (the AVX-512 ones, named …AVX512, with ZMM registers and opmask
// tails; see the AVX-512 section below):
//
//	go run . -out ../muladd_amd64.s -stubs ../muladd_stub_amd64.go -pkg fused
//
// and the dispatch table muladd_table_amd64.go next to them.
//
// A panel kernel panel<T>N<nv>R<r> computes, for i < r and the nv vectors of
// one row of C,
//
//	C[i, 0:nv·w] += Σ_{p<k} A(i,p) · B[p, 0:nv·w],   A(i,p) = a[i·ai + p·ap]
//
// with w = 4 (float64) or 8 (float32) lanes. The r×nv accumulators live in
// YMM registers for the whole k loop; A is broadcast one element at a time,
// B is loaded (into registers when they fit, else as an FMA memory operand).
// With ai = ldx, ap = 1 this is the score panel S = X·W of a linear
// classifier; with ai = 1, ap = ldx it is the gradient panel dW += Xᵀ·dS.
// Each element of C gets MulAdd's order: a sum from zero by VFMADD in
// increasing p, then one VADD to C.
//
// The strip kernels tn<T>M<m>V<v> (MulAddTN: C += Aᵀ·B over one pass of k
// rows, for m rows of C and ns strips of v vectors) and the masked tail
// kernels tn<T>M<m>Tail (the last r < w columns) likewise sum the pass from
// zero by VFMADD in increasing p and then add it to C; the Go side
// (tn_amd64.go) cuts k into MulAddTN's passes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

type elem struct {
	name    string // F64 / F32
	gotyp   string
	masktyp string // Go type of a lane mask element
	shift   uint8
	maxNV   int
	load    func(...Op)
	add     func(...Op)
	fma     func(...Op)
	bcast   func(...Op)
	maskmov func(...Op)
	loadZ   func(...Op) // AVX-512 zero-masking load: (m, k, dst)
	storeK  func(...Op) // AVX-512 masked store: (src, k, m)
}

var elems = []elem{
	{"F64", "float64", "int64", 3, 4, func(o ...Op) { VMOVUPD(o[0], o[1]) }, func(o ...Op) { VADDPD(o[0], o[1], o[2]) },
		func(o ...Op) { VFMADD231PD(o[0], o[1], o[2]) }, func(o ...Op) { VBROADCASTSD(o[0], o[1]) },
		func(o ...Op) { VMASKMOVPD(o[0], o[1], o[2]) },
		func(o ...Op) { VMOVUPD_Z(o[0], o[1], o[2]) }, func(o ...Op) { VMOVUPD(o[0], o[1], o[2]) }},
	{"F32", "float32", "int32", 2, 2, func(o ...Op) { VMOVUPS(o[0], o[1]) }, func(o ...Op) { VADDPS(o[0], o[1], o[2]) },
		func(o ...Op) { VFMADD231PS(o[0], o[1], o[2]) }, func(o ...Op) { VBROADCASTSS(o[0], o[1]) },
		func(o ...Op) { VMASKMOVPS(o[0], o[1], o[2]) },
		func(o ...Op) { VMOVUPS_Z(o[0], o[1], o[2]) }, func(o ...Op) { VMOVUPS(o[0], o[1], o[2]) }},
}

// maxRows is the register blocking: r·nv accumulators + the B registers + 1
// broadcast register within the 16 YMM registers.
var maxRows = map[int]int{1: 8, 2: 6, 3: 4, 4: 3}

func name(e elem, nv, r int) string { return fmt.Sprintf("panel%sN%dR%d", e.name, nv, r) }

func gen(e elem, nv, r int) {
	TEXT(name(e, nv, r), NOSPLIT, fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, ai, ap int, b *%[1]s, ldb int, k int)", e.gotyp))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds the %d-row, %d-vector panel product A·B to C; k >= 1.", name(e, nv, r), r, nv))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a0 := Load(Param("a"), GP64())
	ai := Load(Param("ai"), GP64())
	SHLQ(U8(e.shift), ai)
	ap := Load(Param("ap"), GP64())
	SHLQ(U8(e.shift), ap)
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	k := Load(Param("k"), GP64())

	var ai3, a4 reg.GPVirtual
	if r >= 4 {
		ai3 = GP64()
		LEAQ(Mem{Base: ai, Index: ai, Scale: 2}, ai3)
	}
	if r > 4 {
		a4 = GP64()
		LEAQ(Mem{Base: a0, Index: ai, Scale: 4}, a4)
	}
	addr := func(i int) Mem {
		base := a0
		if i >= 4 {
			base, i = a4, i-4
		}
		switch i {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: ai, Scale: 1}
		case 2:
			return Mem{Base: base, Index: ai, Scale: 2}
		default:
			return Mem{Base: base, Index: ai3, Scale: 1}
		}
	}

	acc := make([][]reg.VecVirtual, r)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = YMM()
			VXORPS(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	inRegs := r*nv+nv+1 <= 16
	var breg []reg.VecVirtual
	if inRegs {
		for v := 0; v < nv; v++ {
			breg = append(breg, YMM())
		}
	}
	bc := YMM()

	Label("loop")
	if inRegs {
		for v := 0; v < nv; v++ {
			e.load(Mem{Base: b, Disp: 32 * v}, breg[v])
		}
	}
	for i := 0; i < r; i++ {
		e.bcast(addr(i), bc)
		for v := 0; v < nv; v++ {
			var src Op = Mem{Base: b, Disp: 32 * v}
			if inRegs {
				src = breg[v]
			}
			e.fma(src, bc, acc[i][v])
		}
	}
	ADDQ(ap, a0)
	if r > 4 {
		ADDQ(ap, a4)
	}
	ADDQ(ldb, b)
	DECQ(k)
	JNZ(LabelRef("loop"))

	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: c, Disp: 32 * v}
			e.add(m, acc[i][v], acc[i][v])
			e.load(acc[i][v], m)
		}
		if i < r-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// tnMaxM[v-1] is the largest row blocking of the v-vector strip kernels:
// m·v accumulators, v B registers and one broadcast register within the 16
// YMM registers.
var tnMaxM = [2]int{10, 6}

func tnName(e elem, m, v int) string { return fmt.Sprintf("tn%sM%dV%d", e.name, m, v) }

func genTN(e elem, m, v int) {
	TEXT(tnName(e, m, v), NOSPLIT, fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b *%[1]s, ldb int, k int, ns int, ow int)", e.gotyp))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds Aᵀ·B to C (with ow != 0, writes Aᵀ·B + 0 without reading C) for %d rows of C and ns strips of %d vectors; k >= 1, ns >= 1.", tnName(e, m, v), m, v))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), lda)
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	ns := Load(Param("ns"), GP64())

	acc := make([][]reg.VecVirtual, m)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, v)
		for u := range acc[i] {
			acc[i][u] = YMM()
		}
	}
	breg := make([]reg.VecVirtual, v)
	for u := range breg {
		breg[u] = YMM()
	}
	bc := YMM()
	bp, ap, cnt, cp := GP64(), GP64(), GP64(), GP64()

	Label("strip")
	for i := range acc {
		for u := range acc[i] {
			VXORPS(acc[i][u], acc[i][u], acc[i][u])
		}
	}
	MOVQ(b, bp)
	MOVQ(a, ap)
	Load(Param("k"), cnt)
	Label("row")
	for u := 0; u < v; u++ {
		e.load(Mem{Base: bp, Disp: 32 * u}, breg[u])
	}
	// the next strips of this row of B, a few lines ahead
	PREFETCHT0(Mem{Base: bp, Disp: 256})
	for i := 0; i < m; i++ {
		e.bcast(Mem{Base: ap, Disp: i << e.shift}, bc)
		for u := 0; u < v; u++ {
			e.fma(breg[u], bc, acc[i][u])
		}
	}
	ADDQ(ldb, bp)
	ADDQ(lda, ap)
	DECQ(cnt)
	JNZ(LabelRef("row"))

	MOVQ(c, cp)
	tnStore(e, m, v, 32, acc, breg[0], cp, ldc,
		func(mm Mem, acc reg.VecVirtual) { e.add(mm, acc, acc) },
		func(mm Mem, acc reg.VecVirtual) { e.load(acc, mm) })
	ADDQ(U32(32*v), b)
	ADDQ(U32(32*v), c)
	DECQ(ns)
	JNZ(LabelRef("strip"))
	VZEROUPPER()
	RET()
}

// tnStore emits the end of a pass of the strip and tail kernels: for the
// m×v sums acc (vector j of row i at cp + i·ldc + j·vbytes), add(mm, acc)
// adds C's vector at mm to acc and store(mm, acc) writes acc back; with
// the kernel's ow argument set it writes acc + 0 instead, through the
// free register zero, without reading C: the bits add gives on a C of +0
// (a sum of -0 becomes +0, a NaN stays a NaN), which lets a caller skip
// clearing C before its first pass. cp is advanced row by row.
func tnStore(e elem, m, v, vbytes int, acc [][]reg.VecVirtual, zero reg.VecVirtual, cp, ldc reg.Register,
	add, store func(mm Mem, acc reg.VecVirtual)) {
	ow := Load(Param("ow"), GP64())
	rows := func(f func(mm Mem, acc reg.VecVirtual)) {
		for i := 0; i < m; i++ {
			for u := 0; u < v; u++ {
				mm := Mem{Base: cp, Disp: vbytes * u}
				f(mm, acc[i][u])
				store(mm, acc[i][u])
			}
			if i < m-1 {
				ADDQ(ldc, cp)
			}
		}
	}
	TESTQ(ow, ow)
	JNZ(LabelRef("overwrite"))
	rows(add)
	JMP(LabelRef("stored"))
	Label("overwrite")
	VXORPS(zero, zero, zero)
	rows(func(mm Mem, acc reg.VecVirtual) { e.add(zero, acc, acc) })
	Label("stored")
}

func tnTailName(e elem, m int) string { return fmt.Sprintf("tn%sM%dTail", e.name, m) }

// genTNTail emits the masked tail kernel of MulAddTN: genTN's one-vector
// strip for the first r < w columns only, r given by a lane mask (all ones
// in lanes < r, zeros above). Masked loads read zeros from the lanes >= r
// without touching that memory and the masked store leaves it alone, so
// the kernel neither reads nor writes past the r columns. Each of the
// r columns gets the strip kernels' exact sequence: a pass sum from zero
// by VFMADD in increasing p, then one add to C.
func genTNTail(e elem, m int) {
	TEXT(tnTailName(e, m), NOSPLIT, fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b *%[1]s, ldb int, k int, mask *%[2]s, ow int)", e.gotyp, e.masktyp))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds Aᵀ·B to C for %d rows of C and the columns of one vector that mask selects; k >= 1.", tnTailName(e, m), m))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), lda)
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	cnt := Load(Param("k"), GP64())
	mp := Load(Param("mask"), GP64())
	mask := YMM()
	VMOVDQU(Mem{Base: mp}, mask)

	acc := make([]reg.VecVirtual, m)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	breg, bc := YMM(), YMM()
	Label("row")
	e.maskmov(Mem{Base: b}, mask, breg)
	for i := 0; i < m; i++ {
		e.bcast(Mem{Base: a, Disp: i << e.shift}, bc)
		e.fma(breg, bc, acc[i])
	}
	ADDQ(ldb, b)
	ADDQ(lda, a)
	DECQ(cnt)
	JNZ(LabelRef("row"))

	accs := make([][]reg.VecVirtual, m)
	for i := range accs {
		accs[i] = []reg.VecVirtual{acc[i]}
	}
	tnStore(e, m, 1, 0, accs, bc, c, ldc,
		func(mm Mem, acc reg.VecVirtual) {
			e.maskmov(mm, mask, breg)
			e.add(breg, acc, acc)
		},
		func(mm Mem, acc reg.VecVirtual) { e.maskmov(acc, mask, mm) })
	VZEROUPPER()
	RET()
}

// ---------------------------------------------------------------- AVX-512

// The AVX-512 kernels (F/DQ/VL; names end in AVX512) follow the same
// templates with ZMM registers: twice the lanes, 32 registers, so larger
// row blockings, and opmask registers for partial vectors. The order of
// every element's sum is the same as above, so every level gives the
// same bits.

// zmmAccs returns n zeroed ZMM accumulators.
func zmmAccs(n int) []reg.VecVirtual {
	acc := make([]reg.VecVirtual, n)
	for i := range acc {
		acc[i] = ZMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	return acc
}

// maxRows512[nv-1] is the AVX-512 panels' row blocking: r·nv accumulators
// + nv B registers + a broadcast register within the 32 ZMM registers.
// Not more rows than the 32 registers allow: a panel reads one cache line
// from each of its r rows of A in turn, and with the row stride of the
// loss (D = 3073 elements, 4 bytes past a multiple of 4 KiB in float32)
// those lines share an L1 set, whose 12 ways 16 rows overflow: 8 float32
// rows run the 500×3073 scores ~25% faster than 16 (fused.BenchmarkMulAdd);
// float64 runs as fast with 12 as with 8.
var maxRows512 = [2]int{8, 12}

func name512(e elem, nv, r int) string { return fmt.Sprintf("panel%sN%dR%dAVX512", e.name, nv, r) }

// gen512 emits the AVX-512 panel kernel: gen's panel with ZMM vectors, the
// last of its nv vectors restricted to the lanes the opmask last selects
// (all of them when n is a whole number of ZMM vectors): B is loaded and
// C read and written through that mask, so no lane past n is touched.
func gen512(e elem, nv, r int) {
	TEXT(name512(e, nv, r), NOSPLIT, fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, ai, ap int, b *%[1]s, ldb int, k int, last int)", e.gotyp))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds the %d-row, %d-vector panel product A·B to C, the last vector's lanes as last selects; k >= 1.", name512(e, nv, r), r, nv))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a0 := Load(Param("a"), GP64())
	ai := Load(Param("ai"), GP64())
	SHLQ(U8(e.shift), ai)
	ap := Load(Param("ap"), GP64())
	SHLQ(U8(e.shift), ap)
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	k := Load(Param("k"), GP64())
	lm := K()
	lb := GP64()
	Load(Param("last"), lb)
	KMOVW(lb.As32(), lm)
	// A rows through a base register per 4 rows: a0 + i·ai.
	bases := []reg.Register{a0}
	ai3 := GP64()
	LEAQ(Mem{Base: ai, Index: ai, Scale: 2}, ai3)
	for j := 4; j < r; j += 4 {
		p := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: ai, Scale: 4}, p)
		bases = append(bases, p)
	}
	addr := func(i int) Mem {
		base := bases[i/4]
		switch i % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: ai, Scale: 1}
		case 2:
			return Mem{Base: base, Index: ai, Scale: 2}
		default:
			return Mem{Base: base, Index: ai3, Scale: 1}
		}
	}
	acc := make([][]reg.VecVirtual, r)
	for i := range acc {
		acc[i] = zmmAccs(nv)
	}
	breg := make([]reg.VecVirtual, nv)
	for v := range breg {
		breg[v] = ZMM()
	}
	bc := ZMM()
	Label("loop")
	for v := 0; v < nv; v++ {
		if v == nv-1 {
			e.loadZ(Mem{Base: b, Disp: 64 * v}, lm, breg[v])
		} else {
			e.load(Mem{Base: b, Disp: 64 * v}, breg[v])
		}
	}
	for i := 0; i < r; i++ {
		e.bcast(addr(i), bc)
		for v := 0; v < nv; v++ {
			e.fma(breg[v], bc, acc[i][v])
		}
	}
	for _, p := range bases {
		ADDQ(ap, p)
	}
	ADDQ(ldb, b)
	DECQ(k)
	JNZ(LabelRef("loop"))

	t := ZMM()
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: c, Disp: 64 * v}
			if v == nv-1 {
				e.loadZ(m, lm, t)
				e.add(t, acc[i][v], acc[i][v])
				e.storeK(acc[i][v], lm, m)
			} else {
				e.add(m, acc[i][v], acc[i][v])
				e.load(acc[i][v], m)
			}
		}
		if i < r-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// tnMaxM512[v-1] is the AVX-512 strip kernels' row blocking: m·v
// accumulators, v B registers and one broadcast register within the 32
// ZMM registers.
var tnMaxM512 = [2]int{16, 14}

func tnName512(e elem, m, v int) string { return fmt.Sprintf("tn%sM%dV%dAVX512", e.name, m, v) }

// genTN512 is genTN with ZMM vectors; with tail, it is the masked tail
// kernel instead (one vector, the lanes the opmask argument selects, as
// genTNTail).
func genTN512(e elem, m, v int, tail bool) {
	nm := tnName512(e, m, v)
	sig := fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b *%[1]s, ldb int, k int, ns int, ow int)", e.gotyp)
	doc := fmt.Sprintf("%s adds Aᵀ·B to C (with ow != 0, writes Aᵀ·B + 0 without reading C) for %d rows of C and ns strips of %d vectors; k >= 1, ns >= 1.", nm, m, v)
	if tail {
		nm = fmt.Sprintf("tn%sM%dTailAVX512", e.name, m)
		sig = fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b *%[1]s, ldb int, k int, mask int, ow int)", e.gotyp)
		doc = fmt.Sprintf("%s adds Aᵀ·B to C (with ow != 0, writes Aᵀ·B + 0 without reading C) for %d rows of C and the columns of one vector that mask selects; k >= 1.", nm, m)
	}
	TEXT(nm, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), lda)
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(e.shift), ldb)
	var ns reg.Register
	var km reg.OpmaskVirtual
	if tail {
		km = K()
		mb := GP64()
		Load(Param("mask"), mb)
		KMOVW(mb.As32(), km)
	} else {
		ns = Load(Param("ns"), GP64())
	}
	acc := make([][]reg.VecVirtual, m)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, v)
		for u := range acc[i] {
			acc[i][u] = ZMM()
		}
	}
	breg := make([]reg.VecVirtual, v)
	for u := range breg {
		breg[u] = ZMM()
	}
	bc := ZMM()
	bp, ap, cnt, cp := GP64(), GP64(), GP64(), GP64()

	Label("strip")
	for i := range acc {
		for u := range acc[i] {
			VXORPS(acc[i][u], acc[i][u], acc[i][u])
		}
	}
	MOVQ(b, bp)
	MOVQ(a, ap)
	Load(Param("k"), cnt)
	Label("row")
	for u := 0; u < v; u++ {
		if tail {
			e.loadZ(Mem{Base: bp, Disp: 64 * u}, km, breg[u])
		} else {
			e.load(Mem{Base: bp, Disp: 64 * u}, breg[u])
		}
	}
	if !tail {
		// the next strips of this row of B, a few lines ahead
		PREFETCHT0(Mem{Base: bp, Disp: 512})
	}
	for i := 0; i < m; i++ {
		e.bcast(Mem{Base: ap, Disp: i << e.shift}, bc)
		for u := 0; u < v; u++ {
			e.fma(breg[u], bc, acc[i][u])
		}
	}
	ADDQ(ldb, bp)
	ADDQ(lda, ap)
	DECQ(cnt)
	JNZ(LabelRef("row"))

	MOVQ(c, cp)
	if tail {
		tnStore(e, m, v, 64, acc, bc, cp, ldc,
			func(mm Mem, acc reg.VecVirtual) {
				e.loadZ(mm, km, breg[0])
				e.add(breg[0], acc, acc)
			},
			func(mm Mem, acc reg.VecVirtual) { e.storeK(acc, km, mm) })
	} else {
		tnStore(e, m, v, 64, acc, breg[0], cp, ldc,
			func(mm Mem, acc reg.VecVirtual) { e.add(mm, acc, acc) },
			func(mm Mem, acc reg.VecVirtual) { e.load(acc, mm) })
	}
	if !tail {
		ADDQ(U32(64*v), b)
		ADDQ(U32(64*v), c)
		DECQ(ns)
		JNZ(LabelRef("strip"))
	}
	VZEROUPPER()
	RET()
}

func main() {
	table := flag.String("table", "../muladd_table_amd64.go", "dispatch table file to write")
	ConstraintExpr("amd64,gc,!purego")
	var tb bytes.Buffer
	fmt.Fprintf(&tb, "// Code generated by softmax/internal/fused/_gen. DO NOT EDIT.\n\n//go:build amd64 && gc && !purego\n\npackage fused\n\n")
	for _, e := range elems {
		fmt.Fprintf(&tb, "// panels%s[nv-1][r-1] is the r-row, nv-vector %s panel kernel.\n", e.name, e.gotyp)
		fmt.Fprintf(&tb, "var panels%s = [%d][]func(c *%[3]s, ldc int, a *%[3]s, ai, ap int, b *%[3]s, ldb int, k int){\n", e.name, e.maxNV, e.gotyp)
		for nv := 1; nv <= e.maxNV; nv++ {
			fmt.Fprintf(&tb, "\t{")
			for r := 1; r <= maxRows[nv]; r++ {
				gen(e, nv, r)
				if r > 1 {
					fmt.Fprintf(&tb, ", ")
				}
				fmt.Fprintf(&tb, "%s", name(e, nv, r))
			}
			fmt.Fprintf(&tb, "},\n")
		}
		fmt.Fprintf(&tb, "}\n\n")
	}
	for _, e := range elems {
		fmt.Fprintf(&tb, "// tn%s[v-1][m-1] is the m-row, v-vector %s strip kernel.\n", e.name, e.gotyp)
		fmt.Fprintf(&tb, "var tn%s = [2][]func(c *%[2]s, ldc int, a *%[2]s, lda int, b *%[2]s, ldb int, k int, ns int, ow int){\n", e.name, e.gotyp)
		for v := 1; v <= 2; v++ {
			fmt.Fprintf(&tb, "\t{")
			for m := 1; m <= tnMaxM[v-1]; m++ {
				genTN(e, m, v)
				if m > 1 {
					fmt.Fprintf(&tb, ", ")
				}
				fmt.Fprintf(&tb, "%s", tnName(e, m, v))
			}
			fmt.Fprintf(&tb, "},\n")
		}
		fmt.Fprintf(&tb, "}\n\n")
	}
	for _, e := range elems {
		fmt.Fprintf(&tb, "// tnTail%s[m-1] is the m-row masked tail kernel (%s).\n", e.name, e.gotyp)
		fmt.Fprintf(&tb, "var tnTail%s = []func(c *%[2]s, ldc int, a *%[2]s, lda int, b *%[2]s, ldb int, k int, mask *%[3]s, ow int){\n\t", e.name, e.gotyp, e.masktyp)
		for m := 1; m <= tnMaxM[0]; m++ {
			genTNTail(e, m)
			if m > 1 {
				fmt.Fprintf(&tb, ", ")
			}
			fmt.Fprintf(&tb, "%s", tnTailName(e, m))
		}
		fmt.Fprintf(&tb, ",\n}\n\n")
	}
	for _, e := range elems {
		fmt.Fprintf(&tb, "// panels%sAVX512[nv-1][r-1] is the r-row, nv-vector %s AVX-512 panel kernel.\n", e.name, e.gotyp)
		fmt.Fprintf(&tb, "var panels%sAVX512 = [2][]func(c *%[2]s, ldc int, a *%[2]s, ai, ap int, b *%[2]s, ldb int, k int, last int){\n", e.name, e.gotyp)
		for nv := 1; nv <= 2; nv++ {
			fmt.Fprintf(&tb, "\t{")
			for r := 1; r <= maxRows512[nv-1]; r++ {
				gen512(e, nv, r)
				if r > 1 {
					fmt.Fprintf(&tb, ", ")
				}
				fmt.Fprintf(&tb, "%s", name512(e, nv, r))
			}
			fmt.Fprintf(&tb, "},\n")
		}
		fmt.Fprintf(&tb, "}\n\n")
		fmt.Fprintf(&tb, "// tn%sAVX512[v-1][m-1] is the m-row, v-vector %s AVX-512 strip kernel.\n", e.name, e.gotyp)
		fmt.Fprintf(&tb, "var tn%sAVX512 = [2][]func(c *%[2]s, ldc int, a *%[2]s, lda int, b *%[2]s, ldb int, k int, ns int, ow int){\n", e.name, e.gotyp)
		for v := 1; v <= 2; v++ {
			fmt.Fprintf(&tb, "\t{")
			for m := 1; m <= tnMaxM512[v-1]; m++ {
				genTN512(e, m, v, false)
				if m > 1 {
					fmt.Fprintf(&tb, ", ")
				}
				fmt.Fprintf(&tb, "%s", tnName512(e, m, v))
			}
			fmt.Fprintf(&tb, "},\n")
		}
		fmt.Fprintf(&tb, "}\n\n")
		fmt.Fprintf(&tb, "// tnTail%sAVX512[m-1] is the m-row masked AVX-512 tail kernel (%s).\n", e.name, e.gotyp)
		fmt.Fprintf(&tb, "var tnTail%sAVX512 = []func(c *%[2]s, ldc int, a *%[2]s, lda int, b *%[2]s, ldb int, k int, mask int, ow int){\n\t", e.name, e.gotyp)
		for m := 1; m <= tnMaxM512[0]; m++ {
			genTN512(e, m, 1, true)
			if m > 1 {
				fmt.Fprintf(&tb, ", ")
			}
			fmt.Fprintf(&tb, "tn%sM%dTailAVX512", e.name, m)
		}
		fmt.Fprintf(&tb, ",\n}\n\n")
	}
	genNTAll(&tb)
	genPackedAll(&tb)
	genTransposeAll()
	Generate()
	if err := os.WriteFile(*table, append(bytes.TrimRight(tb.Bytes(), "\n"), '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

}
