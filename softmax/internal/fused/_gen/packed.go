package main

import (
	"bytes"
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// ---------------------------------------------------------------- packed

// The kernels of MulAddPacked (float64 only): S += A·W for C = 8q + r
// columns, q ∈ {0, 1}, r ∈ {1, 2}, W packed in groups of 4 values of p
// (see fused/packed.go). A group holds, for q = 1, the 8 columns 0..7 of
// its 4 rows of W (4 vectors of 8), then one vector of the last r columns
// interleaved with p: lane 4j + t holds W[4g+t, 8q+j] (zero for j >= r or
// past D). Columns below 8q get MulAdd's sequence (a sum from zero by
// VFMADD in increasing p, then one add to C); column 8q+j gets 4 lane
// sums, lane t summing p ≡ t (mod 4) in increasing p, reduced as
// (s0 + s1) + (s2 + s3) and then added to C. So the last columns cost a
// quarter of an FMA per p instead of a whole padded vector: C = 10 takes
// 1.25 ZMM FMAs per row and p instead of 2, 2.5 YMM FMAs instead of 3.
//
// A row of A (p contiguous) is read as 4 values at a time for the
// interleaved vector: VBROADCASTF64X4 at AVX-512 (the 4 values in both
// halves), a YMM load at AVX2, where the interleaved vector is two YMM
// registers (column 8q, column 8q+1) and so gets the same lane sums. The
// last D mod 4 values of p (tail) go through masked loads that read zeros
// past D without touching that memory: such a lane adds fma(+0, +0, s) =
// s exactly (a lane sum starting at +0 is never -0; see the NT kernels).

// packedLevel is one ISA level of the packed kernels.
type packedLevel struct {
	suffix string
	zmm    bool
	maxR   [2]int // row blocking for q = 0, 1
}

// packedLevels: AVX-512 keeps 2 ZMM accumulators per row (q = 1) + one
// register each of W, broadcast A and the interleaved A: 12 rows (as
// MulAdd's float64 panels, whose comment gives the L1 reason not to go
// higher). AVX2 keeps 4 YMM per row (q = 1) in 16 registers: 3 rows (6
// for q = 0). Running columns 0..7 and the interleaved ones as two 6-row
// kernels instead read each row of A twice, and the float64 loss's scores
// at the AVX2 level ran 8% slower than MulAdd's against 6.5% for the 3-row
// kernel (one thread, docs/performance.md).
var packedLevels = []packedLevel{{"", false, [2]int{6, 3}}, {"AVX512", true, [2]int{12, 12}}}

func packedName(lv packedLevel, q, r int) string {
	return fmt.Sprintf("packedF64Q%dR%d%s", q, r, lv.suffix)
}

func packedSig(lv packedLevel) string {
	if lv.zmm {
		return "func(c *float64, ldc int, a *float64, lda int, b *float64, ng int, tail int, xmask int, cmask int)"
	}
	return "func(c *float64, ldc int, a *float64, lda int, b *float64, ng int, tail int, masks *int64)"
}

// genPacked emits the kernel for r rows of A and C: ng full groups of 4
// values of p, then tail (< 4) more. At AVX-512 the opmask xmask selects
// the tail's lanes of a 4-value load of A and cmask the interleaved
// columns of C; at AVX2 masks[0:4] and masks[4:6] are those lane masks.
func genPacked(lv packedLevel, q, r int) {
	nm := packedName(lv, q, r)
	do8 := q == 1
	TEXT(nm, NOSPLIT, packedSig(lv))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds A·W to C for %d rows, W packed for %d full vectors of columns and the interleaved last ones: ng groups of 4 values of p, then tail.", nm, r, q))
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(3), ldc)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(3), lda)
	b := Load(Param("b"), GP64())
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
	zero := func(v reg.VecVirtual) { VXORPD(v, v, v) }
	acc8 := make([][]reg.VecVirtual, r) // columns 0..7 (q = 1)
	accI := make([][]reg.VecVirtual, r) // the interleaved columns
	for i := 0; i < r; i++ {
		for h := 0; h < halves; h++ {
			if do8 {
				v := vec()
				zero(v)
				acc8[i] = append(acc8[i], v)
			}
			v := vec()
			zero(v)
			accI[i] = append(accI[i], v)
		}
	}
	bv := make([]reg.VecVirtual, halves)
	for h := range bv {
		bv[h] = vec()
	}
	bc := vec()
	gbytes := (4*q + 1) * 64 // a group of the packed W

	// step8 adds the products of value t of a group to columns 0..7.
	step8 := func(t int) {
		for h := 0; h < halves; h++ {
			VMOVUPD(Mem{Base: b, Disp: 64*t + vbytes*h}, bv[h])
		}
		for i := 0; i < r; i++ {
			VBROADCASTSD(aAddr(i, 8*t), bc)
			for h := 0; h < halves; h++ {
				VFMADD231PD(bv[h], bc, acc8[i][h])
			}
		}
	}
	// stepI adds a group to the interleaved columns, A's 4 values loaded
	// by load(i, dst).
	stepI := func(load func(i int, dst reg.VecVirtual)) {
		for h := 0; h < halves; h++ {
			VMOVUPD(Mem{Base: b, Disp: 256*q + vbytes*h}, bv[h])
		}
		for i := 0; i < r; i++ {
			load(i, bc)
			for h := 0; h < halves; h++ {
				VFMADD231PD(bv[h], bc, accI[i][h])
			}
		}
	}
	full := func(i int, dst reg.VecVirtual) {
		if lv.zmm {
			VBROADCASTF64X4(aAddr(i, 0), dst)
		} else {
			VMOVUPD(aAddr(i, 0), dst)
		}
	}

	TESTQ(cnt, cnt)
	JZ(LabelRef("tail"))
	Label("group")
	if do8 {
		for t := 0; t < 4; t++ {
			step8(t)
		}
	}
	stepI(full)
	for _, p := range bases {
		ADDQ(U8(32), p)
	}
	ADDQ(U32(gbytes), b)
	DECQ(cnt)
	JNZ(LabelRef("group"))

	Label("tail")
	tail := Load(Param("tail"), GP64())
	TESTQ(tail, tail)
	JZ(LabelRef("store"))
	if do8 {
		for t := 0; t < 3; t++ {
			if t > 0 {
				CMPQ(tail, U8(t))
				JLE(LabelRef("tailI"))
			}
			step8(t)
		}
		Label("tailI")
	}
	var xm reg.OpmaskVirtual
	var xmv reg.VecVirtual
	if lv.zmm {
		xm = K()
		mb := GP64()
		Load(Param("xmask"), mb)
		KMOVW(mb.As32(), xm)
	} else {
		mp := Load(Param("masks"), GP64())
		xmv = YMM()
		VMOVDQU(Mem{Base: mp}, xmv)
	}
	stepI(func(i int, dst reg.VecVirtual) {
		if lv.zmm {
			VMOVUPD_Z(aAddr(i, 0), xm, dst.AsY())
			VINSERTF64X4(U8(1), dst.AsY(), dst, dst)
		} else {
			VMASKMOVPD(aAddr(i, 0), xmv, dst)
		}
	})

	Label("store")
	var cm reg.OpmaskVirtual
	var cmv reg.VecVirtual
	if lv.zmm {
		cm = K()
		mb := GP64()
		Load(Param("cmask"), mb)
		KMOVW(mb.As32(), cm)
	} else {
		mp := Load(Param("masks"), GP64())
		cmv = YMM()
		VMOVDQU(Mem{Base: mp, Disp: 32}, cmv.AsX())
	}
	t1, t2 := vec(), vec()
	for i := 0; i < r; i++ {
		if do8 {
			for h := 0; h < halves; h++ {
				m := Mem{Base: c, Disp: vbytes * h}
				VADDPD(m, acc8[i][h], acc8[i][h])
				VMOVUPD(acc8[i][h], m)
			}
		}
		// each column's (s0 + s1) + (s2 + s3) into the low lanes of s
		s := t2.AsX()
		if lv.zmm {
			x := accI[i][0]
			VPERMILPD(U8(0x55), x, t1) // lanes 1, 0, 3, 2, ...
			VADDPD(x, t1, t1)          // lane 4j: s0+s1, lane 4j+2: s2+s3
			VPERMPD(U8(0x02), t1, t2)  // lane 4j ← lane 4j+2
			VADDPD(t1, t2, t2)         // lane 4j: (s0+s1)+(s2+s3)
			VEXTRACTF64X4(U8(1), t2, t1.AsY())
			VUNPCKLPD(t1.AsX(), s, s) // column 0's sum, column 1's
		} else {
			for h := 1; h >= 0; h-- {
				x := accI[i][h]
				VPERMILPD(U8(0x5), x, t1)
				VADDPD(x, t1, x)
				VEXTRACTF128(U8(1), x, t1.AsX())
				VADDPD(t1.AsX(), x.AsX(), x.AsX())
			}
			VUNPCKLPD(accI[i][1].AsX(), accI[i][0].AsX(), s)
		}
		m := Mem{Base: c, Disp: 64 * q}
		if lv.zmm {
			VMOVUPD_Z(m, cm, t1.AsX())
			VADDPD(t1.AsX(), s, s)
			VMOVUPD(s, cm, m)
		} else {
			VMASKMOVPD(m, cmv.AsX(), t1.AsX())
			VADDPD(t1.AsX(), s, s)
			VMASKMOVPD(s, cmv.AsX(), m)
		}
		if i < r-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// genPackedAll emits the kernels and their tables packedF64[q][r-1]
// (AVX2) and packedF64AVX512[q][r-1].
func genPackedAll(tb *bytes.Buffer) {
	for _, lv := range packedLevels {
		tbl := "packedF64" + lv.suffix
		fmt.Fprintf(tb, "// %s[q][r-1] is the MulAddPacked kernel for r rows and q full vectors of columns.\n", tbl)
		fmt.Fprintf(tb, "var %s = [2][]%s{\n", tbl, packedSig(lv))
		for q := 0; q < 2; q++ {
			fmt.Fprintf(tb, "\t{")
			for r := 1; r <= lv.maxR[q]; r++ {
				genPacked(lv, q, r)
				if r > 1 {
					fmt.Fprintf(tb, ", ")
				}
				fmt.Fprintf(tb, "%s", packedName(lv, q, r))
			}
			fmt.Fprintf(tb, "},\n")
		}
		fmt.Fprintf(tb, "}\n\n")
	}
}
