package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// ---------------------------------------------------------------- Transpose

// The Transpose kernels move one block of at most L×L elements, L the
// lanes of a vector (AVX2: 8 float32 or 4 float64; AVX-512: 16 or 8): the
// first cb <= L values of rb <= L rows of src become the first rb values
// of cb rows of dst, dst[j·ldd+i] = src[i·lds+j]. Row i of the block is
// loaded into vector register r_i (lanes past cb masked off, so nothing
// past the block is read; rows past rb are not loaded but zeroed, and
// their lanes are never stored), the registers are transposed in place,
// and r_j is stored as row j of dst with the lanes past rb masked off. A
// call moves nb such blocks, src and dst advancing by sstep and dstep
// elements from one to the next. The
// transpose is the butterfly that swaps the off-diagonal b×b blocks of
// every 2b×2b block, for b = 1, 2, ..., L/2: rows i and i+b (bit b of i
// clear) become
//
//	new_i[l]   = l&b == 0 ? r_i[l]   : r_{i+b}[l-b]
//	new_{i+b}[l] = l&b == 0 ? r_i[l+b] : r_{i+b}[l]
//
// At AVX-512 each is one two-table permute (VPERMT2PS/PD) by a constant
// index vector. At AVX2, a stage within the 128-bit halves is an in-lane
// permute by an immediate (VPERMILPS/PD) and a blend by an immediate, and
// the stage b = L/2 swaps 128-bit halves (VPERM2F128). Only moves: every
// bit of every value, NaN payloads included, arrives unchanged.

// tpLevel is one ISA level's transpose kernels.
type tpLevel struct {
	suffix string // "" (AVX2) or "AVX512"
	bytes  int    // vector width in bytes
}

var tpLevels = []tpLevel{{"", 32}, {"AVX512", 64}}

func tpName(e elem, lv tpLevel) string { return fmt.Sprintf("transpose%s%s", e.name, lv.suffix) }

// tpIndex returns the AVX-512 permute indices of the butterfly: for each
// stage b = 1, 2, ..., L/2, the vector giving new_i, then the one giving
// new_{i+b} (indices >= L select the second table, r_{i+b}).
func tpIndex(L int) []int {
	var idx []int
	for b := 1; b < L; b *= 2 {
		for l := 0; l < L; l++ {
			if l&b == 0 {
				idx = append(idx, l)
			} else {
				idx = append(idx, L+l-b)
			}
		}
		for l := 0; l < L; l++ {
			if l&b == 0 {
				idx = append(idx, l+b)
			} else {
				idx = append(idx, L+l)
			}
		}
	}
	return idx
}

func genTranspose(e elem, lv tpLevel) {
	nm := tpName(e, lv)
	size := 1 << e.shift
	L := lv.bytes / size
	is512 := lv.bytes == 64
	maskArgs := fmt.Sprintf(", rmask, cmask *%s", e.masktyp)
	if is512 {
		maskArgs = ""
	}
	TEXT(nm, NOSPLIT, fmt.Sprintf("func(dst *%[1]s, ldd int, src *%[1]s, lds int, rb, cb, nb, sstep, dstep int%[2]s)", e.gotyp, maskArgs))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s writes the transpose of the first cb values of rb rows of src (rb, cb <= %d) as cb rows of dst, for nb blocks, src and dst advancing by sstep and dstep elements from block to block.", nm, L))
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(e.shift), ldd)
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(e.shift), lds)
	rb := Load(Param("rb"), GP64())
	cb := Load(Param("cb"), GP64())
	nb := Load(Param("nb"), GP64())
	sstep := Load(Param("sstep"), GP64())
	SHLQ(U8(e.shift), sstep)
	dstep := Load(Param("dstep"), GP64())
	SHLQ(U8(e.shift), dstep)

	vec := func() reg.VecVirtual {
		if is512 {
			return ZMM()
		}
		return YMM()
	}
	r := make([]reg.VecVirtual, L)
	for i := range r {
		r[i] = vec()
	}

	// Masks: lanes < cb for the loads, lanes < rb for the stores.
	var kc, kr reg.Register
	var cm, rm reg.VecVirtual
	if is512 {
		// (1<<n)-1 from a table: a shift by n would need n in CX.
		base := GP64()
		LEAQ(tpLanes, base)
		lanes := func(n reg.Register) reg.Register {
			k := K()
			KMOVW(Mem{Base: base, Index: n, Scale: 2}, k)
			return k
		}
		kc, kr = lanes(cb), lanes(rb)
	} else {
		cm, rm = YMM(), YMM()
		VMOVDQU(Mem{Base: Load(Param("cmask"), GP64())}, cm)
		VMOVDQU(Mem{Base: Load(Param("rmask"), GP64())}, rm)
	}

	// The AVX-512 permute indices, two per stage, for all blocks.
	var idx []reg.VecVirtual
	if is512 {
		tbl := GLOBL(fmt.Sprintf("tpidx%s", e.name), RODATA|NOPTR)
		for k, v := range tpIndex(L) {
			if size == 4 {
				DATA(4*k, U32(v))
			} else {
				DATA(8*k, U64(v))
			}
		}
		for b, st := 1, 0; b < L; b, st = b*2, st+1 {
			lo, hi := ZMM(), ZMM()
			VMOVDQU64(tbl.Offset(2*st*64), lo)
			VMOVDQU64(tbl.Offset((2*st+1)*64), hi)
			idx = append(idx, lo, hi)
		}
	}

	Label("block")
	// Rows 0..rb-1 of the block; the others zero (never stored, but
	// defined, so that no register carries a value around the loop).
	for i := 1; i < L; i++ {
		VXORPS(r[i], r[i], r[i])
	}
	p := GP64()
	MOVQ(src, p)
	for i := 0; i < L; i++ {
		if i > 0 {
			CMPQ(rb, U8(i))
			JLE(LabelRef("transpose"))
			ADDQ(lds, p)
		}
		if is512 {
			e.loadZ(Mem{Base: p}, kc, r[i])
		} else {
			e.maskmov(Mem{Base: p}, cm, r[i])
		}
	}

	Label("transpose")
	if is512 {
		stage := 0
		for b := 1; b < L; b *= 2 {
			lo, hi := idx[2*stage], idx[2*stage+1]
			for i := 0; i < L; i++ {
				if i&b != 0 {
					continue
				}
				ni := ZMM()
				if size == 4 {
					VMOVAPS(r[i], ni)
					VPERMT2PS(r[i+b], lo, ni)
					VPERMT2PS(r[i+b], hi, r[i])
				} else {
					VMOVAPD(r[i], ni)
					VPERMT2PD(r[i+b], lo, ni)
					VPERMT2PD(r[i+b], hi, r[i])
				}
				r[i], r[i+b] = ni, r[i]
			}
			stage++
		}
	} else {
		for b := 1; b < L; b *= 2 {
			for i := 0; i < L; i++ {
				if i&b != 0 {
					continue
				}
				ni, nb := YMM(), YMM()
				if b == L/2 {
					VPERM2F128(U8(0x20), r[i+b], r[i], ni)
					VPERM2F128(U8(0x31), r[i+b], r[i], nb)
				} else {
					up, down := YMM(), YMM()
					// In-lane immediates: up moves lane l-b to the lanes
					// with bit b set, down lane l+b to those with it clear;
					// set is the blend of the lanes with bit b set.
					var upImm, downImm, set uint8
					if size == 4 {
						upImm, downImm = 0xA0, 0xF5 // b = 1: (0,0,2,2), (1,1,3,3)
						set = 0xAA
						if b == 2 {
							upImm, downImm = 0x44, 0xEE // (0,1,0,1), (2,3,2,3)
							set = 0xCC
						}
						VPERMILPS(U8(upImm), r[i+b], up)
						VPERMILPS(U8(downImm), r[i], down)
						VBLENDPS(U8(set), up, r[i], ni)
						VBLENDPS(U8(set), r[i+b], down, nb)
					} else {
						// b = 1: lane 1 of each half from lane 0, lane 0 from lane 1
						VPERMILPD(U8(0x0), r[i+b], up)
						VPERMILPD(U8(0xF), r[i], down)
						VBLENDPD(U8(0xA), up, r[i], ni)
						VBLENDPD(U8(0xA), r[i+b], down, nb)
					}
				}
				r[i], r[i+b] = ni, nb
			}
		}
	}

	// Rows 0..cb-1 of dst.
	q := GP64()
	MOVQ(dst, q)
	for j := 0; j < L; j++ {
		if j > 0 {
			CMPQ(cb, U8(j))
			JLE(LabelRef("next"))
			ADDQ(ldd, q)
		}
		if is512 {
			e.storeK(r[j], kr, Mem{Base: q})
		} else {
			if size == 4 {
				VMASKMOVPS(r[j], rm, Mem{Base: q})
			} else {
				VMASKMOVPD(r[j], rm, Mem{Base: q})
			}
		}
	}
	Label("next")
	ADDQ(sstep, src)
	ADDQ(dstep, dst)
	DECQ(nb)
	JNZ(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// tpLanes is the table of the opmasks of the first n lanes, n = 0..16.
var tpLanes Mem

// genTransposeAll emits the transpose kernels transpose<T><suffix>.
func genTransposeAll() {
	tpLanes = GLOBL("tplanes", RODATA|NOPTR)
	for n := 0; n <= 16; n++ {
		DATA(2*n, U16(1<<n-1))
	}
	for _, lv := range tpLevels {
		for _, e := range elems {
			genTranspose(e, lv)
		}
	}
}
