package main

import (
	"bytes"
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// ---------------------------------------------------------------- packed

// The kernels of MulAddPacked: S += A·W for C = 8q + r columns, q ∈ {0,
// 1}, r ∈ {1, 2}, W packed (see fused/packed.go) in groups of G values of
// p (G = 4 for float64, 8 for float32), one group being 32 bytes of a row
// of A, in two parts. The first (b, for q = 1) holds columns 0..7 of the
// group's G rows as 4 vectors of 64 bytes: for float64, vector t holds row
// G·g+t, and the columns below 8q get MulAdd's sequence (a sum from zero
// by VFMADD in increasing p, then one add to C); for float32, vector u
// holds rows G·g+2u and G·g+2u+1, column c of row G·g+2u+s at lane 2c+s,
// so each column gets two sums, of the even and of the odd p, added (even
// + odd) and then to C. Either way, step u of a group multiplies vector u
// by the 8 bytes of A at 8u broadcast (VBROADCASTSD: one float64, or a
// pair of float32). The second part (bi) holds one vector per group of
// the last r columns interleaved with p: lane G·j + t holds W[G·g+t, 8q+j]
// (zero for j >= r or past D). Column 8q+j gets G lane sums, lane t
// summing p ≡ t (mod G) in increasing p, reduced as (s0 + s1) + (s2 + s3)
// (float64) or ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
// (float32), then added to C. So the last columns cost a quarter (float64)
// or an eighth (float32) of an FMA per row of W instead of a whole padded
// vector: C = 10 takes 1.25 ZMM FMAs per row and p instead of 2 (float64),
// and 5 FMAs per 8 values of p, no lane of padding, in float32.
//
// The interleaved vector reads the group's 32 bytes of A: VBROADCASTF64X4
// at AVX-512 (the same 32 bytes in both halves), a YMM load at AVX2,
// where each 64-byte vector is two YMM registers (for the interleaved
// one: column 8q, column 8q+1) and so gets the same lane sums. The last D
// mod G values of p (tail) go through masked loads that read zeros past D
// without touching that memory, and a float32 tail of odd length ends
// with a single value and a zero: such a lane adds fma(+0, +0, s) = s
// exactly (a lane sum starting at +0 is never -0; see the NT kernels).

// packedLevel is one ISA level of the packed kernels.
type packedLevel struct {
	suffix string
	zmm    bool
	maxR   [2]int // row blocking for q = 0, 1
}

// packedLevels: AVX-512 keeps 2 ZMM accumulators per row (q = 1) + one
// register each of W, broadcast A and the interleaved A: 12 rows (as
// MulAdd's float64 panels, whose comment gives the L1 reason not to go
// higher). AVX2 needs 4 YMM per row for q = 1, and 16 registers hold 3
// rows, whose 6 column sums of 4 dependent FMAs a group bind the loop to
// the FMA latency (and 8 rows run as panels of 3 + 3 + 2): the float64
// loss's scores at the AVX2 level ran 6.5% slower than MulAdd's 4-row
// panels. So at AVX2 rows 2 and 3 of a 4-row panel keep their
// interleaved sums in memory (an FMA with a memory operand and a store
// per group: 4 of the group's 40 FMAs), and 4 rows fit: an 8-row block
// ran 12.8–13.2 µs against 14.5–14.6 with 3 rows and MulAdd's 13.6–14.0
// (all sums in memory: 14.5–14.7). For q = 0, 6 rows, all in registers.
var packedLevels = []packedLevel{{"", false, [2]int{6, 4}}, {"AVX512", true, [2]int{12, 12}}}

func packedName(e elem, lv packedLevel, q, r int) string {
	return fmt.Sprintf("packed%sQ%dR%d%s", e.name, q, r, lv.suffix)
}

func packedSig(e elem, lv packedLevel) string {
	if lv.zmm {
		return fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b, bi *%[1]s, ng int, tail int, xmask int, cmask int)", e.gotyp)
	}
	return fmt.Sprintf("func(c *%[1]s, ldc int, a *%[1]s, lda int, b, bi *%[1]s, ng int, tail int, masks *%[2]s)", e.gotyp, e.masktyp)
}

// genPacked emits the kernel for r rows of A and C: ng full groups of G
// values of p, then tail (< G) more. At AVX-512 the opmask xmask selects
// the tail's lanes of a group's load of A and cmask the interleaved
// columns of C; at AVX2 the first 32 bytes at masks and the 16 after them
// are those lane masks.
func genPacked(e elem, lv packedLevel, q, r int) {
	nm := packedName(e, lv, q, r)
	f32 := e.name == "F32"
	do8 := q == 1
	TEXT(nm, NOSPLIT, packedSig(e, lv))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds A·W to C for %d rows, W packed for %d full vectors of columns and the interleaved last ones: ng groups of 32 bytes of a row of A, then tail values.", nm, r, q))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(e.shift), ldc)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(e.shift), lda)
	var b reg.Register
	if do8 {
		b = Load(Param("b"), GP64())
	}
	bi := Load(Param("bi"), GP64())
	cnt := Load(Param("ng"), GP64())
	bases, lda3 := ntRowBases(a, lda, r)
	aAddr := func(i, disp int) Mem { return ntRowAddr(bases, lda, lda3, i, disp) }

	vec := func() reg.VecVirtual {
		if lv.zmm {
			return ZMM()
		}
		return YMM()
	}
	halves := 2 // YMM registers per 8 lanes
	vbytes := 32
	if lv.zmm {
		halves, vbytes = 1, 64
	}
	zero := func(v reg.VecVirtual) { VXORPS(v, v, v) }
	// inMem(i): row i's interleaved sums live in memory (slot), at AVX2
	// with q = 1 for the rows past the first 2, so that 4 rows fit (see
	// packedLevels).
	inMem := func(i int) bool { return !lv.zmm && q == 1 && i >= 2 }
	var local Mem
	slot := func(i, h int) Mem { return local.Offset(32 * (2*(i-2) + h)) }
	if inMem(r - 1) {
		local = AllocLocal(64 * (r - 2))
		z := YMM()
		zero(z)
		for i := 2; i < r; i++ {
			for h := 0; h < 2; h++ {
				VMOVUPS(z, slot(i, h))
			}
		}
	}
	acc8 := make([][]reg.VecVirtual, r) // columns 0..7 (q = 1)
	accI := make([][]reg.VecVirtual, r) // the interleaved columns
	for i := 0; i < r; i++ {
		for h := 0; h < halves; h++ {
			if do8 {
				v := vec()
				zero(v)
				acc8[i] = append(acc8[i], v)
			}
			if !inMem(i) {
				v := vec()
				zero(v)
				accI[i] = append(accI[i], v)
			}
		}
	}
	bv := make([]reg.VecVirtual, halves)
	for h := range bv {
		bv[h] = vec()
	}
	bc := vec()

	// step8 adds step t of a group to columns 0..7, the 8 bytes of A at
	// 8t broadcast by bcast(i, t, dst).
	step8 := func(t int, bcast func(i, t int, dst reg.VecVirtual)) {
		for h := 0; h < halves; h++ {
			VMOVUPS(Mem{Base: b, Disp: 64*t + vbytes*h}, bv[h])
		}
		for i := 0; i < r; i++ {
			bcast(i, t, bc)
			for h := 0; h < halves; h++ {
				e.fma(bv[h], bc, acc8[i][h])
			}
		}
	}
	pair := func(i, t int, dst reg.VecVirtual) { VBROADCASTSD(aAddr(i, 8*t), dst) }
	// one float32 and a zero: the last step of a tail of odd length
	single := func(i, t int, dst reg.VecVirtual) {
		VMOVSS(aAddr(i, 8*t), dst.AsX())
		VBROADCASTSD(dst.AsX(), dst)
	}
	// stepI adds a group to the interleaved columns, A's 4 values loaded
	// by load(i, dst).
	stepI := func(load func(i int, dst reg.VecVirtual)) {
		for h := 0; h < halves; h++ {
			VMOVUPS(Mem{Base: bi, Disp: vbytes * h}, bv[h])
		}
		for i := 0; i < r; i++ {
			if inMem(i) {
				// bc = W·A + sum: the sum's fma, factors swapped
				for h := 0; h < 2; h++ {
					load(i, bc)
					if f32 {
						VFMADD213PS(slot(i, h), bv[h], bc)
					} else {
						VFMADD213PD(slot(i, h), bv[h], bc)
					}
					VMOVUPS(bc, slot(i, h))
				}
				continue
			}
			load(i, bc)
			for h := 0; h < halves; h++ {
				e.fma(bv[h], bc, accI[i][h])
			}
		}
	}
	full := func(i int, dst reg.VecVirtual) {
		if lv.zmm {
			VBROADCASTF64X4(aAddr(i, 0), dst)
		} else {
			VMOVUPS(aAddr(i, 0), dst)
		}
	}

	TESTQ(cnt, cnt)
	JZ(LabelRef("tail"))
	Label("group")
	if do8 {
		for t := 0; t < 4; t++ {
			step8(t, pair)
		}
	}
	stepI(full)
	for _, p := range bases {
		ADDQ(U8(32), p)
	}
	if do8 {
		ADDQ(U32(256), b)
	}
	ADDQ(U8(64), bi)
	DECQ(cnt)
	JNZ(LabelRef("group"))

	Label("tail")
	tail := Load(Param("tail"), GP64())
	TESTQ(tail, tail)
	JZ(LabelRef("store"))
	if do8 && !f32 {
		for t := 0; t < 3; t++ {
			if t > 0 {
				CMPQ(tail, U8(t))
				JLE(LabelRef("tailI"))
			}
			step8(t, pair)
		}
		Label("tailI")
	}
	if do8 && f32 {
		// steps of pairs while two values are left, then of a single one
		for u := 0; u < 4; u++ {
			if u > 0 {
				CMPQ(tail, U8(2*u))
				JLE(LabelRef("tailI"))
			}
			if u < 3 {
				CMPQ(tail, U8(2*u+1))
				JE(LabelRef(fmt.Sprintf("single%d", u)))
				step8(u, pair)
				JMP(LabelRef(fmt.Sprintf("next%d", u)))
			}
			Label(fmt.Sprintf("single%d", u))
			step8(u, single)
			JMP(LabelRef("tailI"))
			if u < 3 {
				Label(fmt.Sprintf("next%d", u))
			}
		}
		Label("tailI")
	}
	// laneMask loads a lane mask: at AVX-512 the opmask argument name, at
	// AVX2 the 32 bytes at masks+disp (or 16 into the XMM half, half).
	laneMask := func(name string, disp int, half bool) (reg.OpmaskVirtual, reg.VecVirtual) {
		if lv.zmm {
			k := K()
			mb := GP64()
			Load(Param(name), mb)
			KMOVW(mb.As32(), k)
			return k, nil
		}
		mp := Load(Param("masks"), GP64())
		v := YMM()
		var dst Op = v
		if half {
			dst = v.AsX()
		}
		VMOVDQU(Mem{Base: mp, Disp: disp}, dst)
		return nil, v
	}
	xm, xmv := laneMask("xmask", 0, false)
	stepI(func(i int, dst reg.VecVirtual) {
		if lv.zmm {
			e.loadZ(aAddr(i, 0), xm, dst.AsY())
			VINSERTF64X4(U8(1), dst.AsY(), dst, dst)
		} else {
			e.maskmov(aAddr(i, 0), xmv, dst)
		}
	})

	Label("store")
	cm, cmv := laneMask("cmask", 32, true)
	t1, t2 := vec(), vec()
	for i := 0; i < r; i++ {
		if inMem(i) {
			accI[i] = []reg.VecVirtual{YMM(), YMM()}
			VMOVUPS(slot(i, 0), accI[i][0])
			VMOVUPS(slot(i, 1), accI[i][1])
		}
		if do8 {
			if f32 {
				packedStore8F32(lv, acc8[i], c, t1, t2)
			} else {
				for h := 0; h < halves; h++ {
					m := Mem{Base: c, Disp: vbytes * h}
					VADDPD(m, acc8[i][h], acc8[i][h])
					VMOVUPD(acc8[i][h], m)
				}
			}
		}
		// each interleaved column's sum into the low lanes of s
		s := t2.AsX()
		switch {
		case lv.zmm && !f32:
			x := accI[i][0]
			VPERMILPD(U8(0x55), x, t1) // lanes 1, 0, 3, 2, ...
			VADDPD(x, t1, t1)          // lane 4j: s0+s1, lane 4j+2: s2+s3
			VPERMPD(U8(0x02), t1, t2)  // lane 4j ← lane 4j+2
			VADDPD(t1, t2, t2)         // lane 4j: (s0+s1)+(s2+s3)
			VEXTRACTF64X4(U8(1), t2, t1.AsY())
			VUNPCKLPD(t1.AsX(), s, s) // column 0's sum, column 1's
		case !f32:
			for h := 1; h >= 0; h-- {
				x := accI[i][h]
				VPERMILPD(U8(0x5), x, t1)
				VADDPD(x, t1, x)
				VEXTRACTF128(U8(1), x, t1.AsX())
				VADDPD(t1.AsX(), x.AsX(), x.AsX())
			}
			VUNPCKLPD(accI[i][1].AsX(), accI[i][0].AsX(), s)
		case lv.zmm:
			x := accI[i][0]
			VPERMILPS(U8(0xB1), x, t1)       // lanes 1, 0, 3, 2, ...
			VADDPS(x, t1, t1)                // lane 2k: s2k + s2k+1
			VPERMILPS(U8(0x4E), t1, t2)      // lanes 2, 3, 0, 1 of each 128 bits
			VADDPS(t1, t2, t2)               // lane 4h: (s0+s1)+(s2+s3) of its half
			VSHUFF32X4(U8(0xB1), t2, t2, t1) // 128-bit blocks 1, 0, 3, 2
			VADDPS(t2, t1, t1)               // lane 8j: column j's sum
			VEXTRACTF32X8(U8(1), t1, t2.AsY())
			VUNPCKLPS(t2.AsX(), t1.AsX(), s)
		default:
			for h := 1; h >= 0; h-- {
				x := accI[i][h]
				VPERMILPS(U8(0xB1), x, t1)
				VADDPS(x, t1, x)
				VPERMILPS(U8(0x4E), x, t1)
				VADDPS(x, t1, x)
				VEXTRACTF128(U8(1), x, t1.AsX())
				VADDPS(t1.AsX(), x.AsX(), x.AsX())
			}
			VUNPCKLPS(accI[i][1].AsX(), accI[i][0].AsX(), s)
		}
		m := Mem{Base: c, Disp: 8 * q << e.shift}
		if lv.zmm {
			e.loadZ(m, cm, t1.AsX())
			e.add(t1.AsX(), s, s)
			e.storeK(s, cm, m)
		} else {
			e.maskmov(m, cmv.AsX(), t1.AsX())
			e.add(t1.AsX(), s, s)
			e.maskmov(s, cmv.AsX(), m)
		}
		if i < r-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// packedStore8F32 adds a row's float32 columns 0..7 to C at c: each
// column's even + odd lane sum (lanes 2c, 2c+1 of acc), gathered into
// one YMM of 8 columns.
func packedStore8F32(lv packedLevel, acc []reg.VecVirtual, c reg.Register, t1, t2 reg.VecVirtual) {
	m := Mem{Base: c}
	if lv.zmm {
		VPERMILPS(U8(0xB1), acc[0], t1)
		VADDPS(acc[0], t1, t1) // lane 2c: column c's sum
		VPMOVQD(t1, t2.AsY())  // the low float of each pair
		VADDPS(m, t2.AsY(), t2.AsY())
		VMOVUPS(t2.AsY(), m)
		return
	}
	for h := 0; h < 2; h++ {
		VPERMILPS(U8(0xB1), acc[h], t1)
		VADDPS(acc[h], t1, acc[h]) // lane 2c': column 4h+c''s sum
	}
	// per 128 bits: columns 0, 1, 4, 5 | 2, 3, 6, 7
	VSHUFPS(U8(0x88), acc[1], acc[0], t1)
	VPERMPD(U8(0xD8), t1, t1)
	VADDPS(m, t1, t1)
	VMOVUPS(t1, m)
}

// genPackedAll emits the kernels and their tables packed<T>[q][r-1]
// (AVX2) and packed<T>AVX512[q][r-1].
func genPackedAll(tb *bytes.Buffer) {
	for _, lv := range packedLevels {
		for _, e := range elems {
			tbl := "packed" + e.name + lv.suffix
			fmt.Fprintf(tb, "// %s[q][r-1] is the %s MulAddPacked kernel for r rows and q full vectors of columns.\n", tbl, e.gotyp)
			fmt.Fprintf(tb, "var %s = [2][]%s{\n", tbl, packedSig(e, lv))
			for q := 0; q < 2; q++ {
				fmt.Fprintf(tb, "\t{")
				for r := 1; r <= lv.maxR[q]; r++ {
					genPacked(e, lv, q, r)
					if r > 1 {
						fmt.Fprintf(tb, ", ")
					}
					fmt.Fprintf(tb, "%s", packedName(e, lv, q, r))
				}
				fmt.Fprintf(tb, "},\n")
			}
			fmt.Fprintf(tb, "}\n\n")
		}
	}
}
