package main

// What every kernel family is written with: the type descriptor ft
// (element type at a vector width vw), constants in memory, the unrolled
// loop with its masked tail, accumulators and the canonical reductions.

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/nnkern/nnkern/kernels/internal/canon"
)

type op = func(...Op)

// vw is a vector instruction set the kernels are emitted for.
type vw struct {
	bytes  int    // register width in bytes
	suffix string // appended to every kernel name
}

var (
	avx2   = vw{bytes: 32, suffix: ""}
	avx512 = vw{bytes: 64, suffix: "AVX512"}
	widths = []vw{avx2, avx512}
)

func (w vw) is512() bool { return w.bytes == 64 }

// ft describes one element type at one vector width.
type ft struct {
	name  string // "F32" or "F64"
	gotyp string // "float32" or "float64"
	size  int    // bytes per element
	lanes int    // elements per register
	w     vw

	load, store, add, sub, mul, div, max, min, and, andn, or, xor, cmp, fma231, fma213, fnma231 op
	bcast, movs, divs                                                                           op
	maskmov                                                                                     func(a, b, c Op)
	blendv                                                                                      func(a, b, c, d Op)
	movmsk                                                                                      func(a, b Op)
	loadZ, blendm                                                                               func(a, b, c, d Op) // AVX-512 only
}

var f32 = ft{
	name: "F32", gotyp: "float32", size: 4,
	load: VMOVUPS, store: VMOVUPS, add: VADDPS, sub: VSUBPS, mul: VMULPS, div: VDIVPS,
	max: VMAXPS, min: VMINPS, and: VANDPS, andn: VANDNPS, or: VORPS, xor: VXORPS, cmp: VCMPPS,
	fma231: VFMADD231PS, fma213: VFMADD213PS, fnma231: VFNMADD231PS,
	bcast: VBROADCASTSS, movs: VMOVSS, divs: VDIVSS,
	maskmov: VMASKMOVPS, blendv: VBLENDVPS, movmsk: VMOVMSKPS,
	loadZ:  func(a, b, c, _ Op) { VMOVUPS_Z(a, b, c) },
	blendm: func(a, b, c, d Op) { VBLENDMPS(a, b, c, d) },
}

var f64 = ft{
	name: "F64", gotyp: "float64", size: 8,
	load: VMOVUPD, store: VMOVUPD, add: VADDPD, sub: VSUBPD, mul: VMULPD, div: VDIVPD,
	max: VMAXPD, min: VMINPD, and: VANDPD, andn: VANDNPD, or: VORPD, xor: VXORPD, cmp: VCMPPD,
	fma231: VFMADD231PD, fma213: VFMADD213PD, fnma231: VFNMADD231PD,
	bcast: VBROADCASTSD, movs: VMOVSD, divs: VDIVSD,
	maskmov: VMASKMOVPD, blendv: VBLENDVPD, movmsk: VMOVMSKPD,
	loadZ:  func(a, b, c, _ Op) { VMOVUPD_Z(a, b, c) },
	blendm: func(a, b, c, d Op) { VBLENDMPD(a, b, c, d) },
}

// at returns t at vector width w.
func (t ft) at(w vw) ft {
	t.w = w
	t.lanes = w.bytes / t.size
	return t
}

// typesAt returns float32 and float64 at width w.
func typesAt(w vw) []ft { return []ft{f32.at(w), f64.at(w)} }

// V allocates a vector register of t's width.
func (t ft) V() VecVirtual {
	if t.w.is512() {
		return ZMM()
	}
	return YMM()
}

// half returns the register holding half of v's lanes (XMM of a YMM, YMM
// of a ZMM).
func (t ft) half(v VecVirtual) Register {
	if t.w.is512() {
		return v.AsY()
	}
	return v.AsX()
}

// fn is the name of kernel base for t: base + F32/F64 + the width suffix.
func (t ft) fn(base string) string { return base + t.name + t.w.suffix }

// f64At is float64 at t's width (HingeRows sums float32 margins in
// float64 lanes).
func (t ft) f64At() ft { return f64.at(t.w) }

// Comparison predicates (VCMPPS imm8).
const (
	cmpEQ    = 0x00 // EQ_OQ
	cmpLT    = 0x01 // LT_OS
	cmpLE    = 0x02 // LE_OS
	cmpUNORD = 0x03 // UNORD_Q
	cmpNLT   = 0x05 // NLT_US: not less than, or unordered
	cmpGT    = 0x0e // GT_OS
	cmpNLE   = 0x16 // NLE_UQ: greater, or unordered (a NaN)
)

// Constant tables: each constant replicated over 64 bytes so it can be a
// full-width memory operand at either width.
var consts = map[string]Mem{}

const constBytes = 64

func vconst(t ft, name string, v float64) Mem {
	key := t.name + name
	if m, ok := consts[key]; ok {
		return m
	}
	m := GLOBL("c"+t.name+name, RODATA|NOPTR)
	for i := 0; i < constBytes/t.size; i++ {
		if t.size == 4 {
			DATA(4*i, U32(math.Float32bits(float32(v))))
		} else {
			DATA(8*i, U64(math.Float64bits(v)))
		}
	}
	consts[key] = m
	return m
}

func iconst(t ft, name string, v uint64) Mem {
	key := t.name + name
	if m, ok := consts[key]; ok {
		return m
	}
	m := GLOBL("c"+t.name+name, RODATA|NOPTR)
	for i := 0; i < constBytes/t.size; i++ {
		if t.size == 4 {
			DATA(4*i, U32(uint32(v)))
		} else {
			DATA(8*i, U64(v))
		}
	}
	consts[key] = m
	return m
}

// laneIndex returns the table 0, 1, … of integers of t's element width.
func laneIndex(t ft) Mem {
	key := t.name + "laneidx"
	if m, ok := consts[key]; ok {
		return m
	}
	m := GLOBL("c"+t.name+"laneidx", RODATA|NOPTR)
	for i := 0; i < constBytes/t.size; i++ {
		if t.size == 4 {
			DATA(4*i, U32(uint32(i)))
		} else {
			DATA(8*i, U64(uint64(i)))
		}
	}
	consts[key] = m
	return m
}

// loopGroup is the number of vectors in the group loop is emitting (the
// unrolled block or a single vector).
var loopGroup = 1

// stream describes one pointer walked by a loop.
type stream struct {
	p    Register
	size int // element size in bytes
}

// loop emits a loop over n elements. body is called for each vector j of an
// unrolled block with the memory offset in bytes relative to each stream's
// pointer being (elemOff*size), and with mask none (full vector) or the
// tail mask. n is consumed.
func loop(t ft, name string, n Register, streams []stream, unroll int, body func(j int, elemOff int, mask vmask)) {
	advance := func(elems int) {
		for _, s := range streams {
			ADDQ(U32(elems*s.size), s.p)
		}
		SUBQ(U32(elems), n)
	}
	if unroll > 1 {
		// Bottom-tested: one compare and branch per block.
		CMPQ(n, U32(unroll*t.lanes))
		JL(LabelRef(name + "_single"))
		Label(name + "_block")
		loopGroup = unroll
		for j := 0; j < unroll; j++ {
			body(j, j*t.lanes, none)
		}
		loopGroup = 1
		advance(unroll * t.lanes)
		CMPQ(n, U32(unroll*t.lanes))
		JGE(LabelRef(name + "_block"))
	}
	Label(name + "_single")
	CMPQ(n, U32(t.lanes))
	JL(LabelRef(name + "_tail"))
	body(0, 0, none)
	advance(t.lanes)
	JMP(LabelRef(name + "_single"))
	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	mask := loadMask(t, n)
	body(0, 0, mask)
	Label(name + "_done")
}

// hreduce reduces the lanes of y with f (add or max) into the low lane of
// the returned XMM register, upper half onto lower half each step (the
// canonical tree inside one register).
func hreduce(t ft, f op, y VecVirtual) Register {
	if t.w.is512() {
		hi := YMM()
		if t.size == 4 {
			VEXTRACTF32X8(U8(1), y, hi)
		} else {
			VEXTRACTF64X4(U8(1), y, hi)
		}
		f(hi, y.AsY(), y.AsY())
	}
	hi := XMM()
	if t.w.is512() {
		// EVEX: y may be one of Y16–Y31, which VEX cannot encode.
		VEXTRACTF32X4(U8(1), y.AsY(), hi)
	} else {
		VEXTRACTF128(U8(1), y.AsY(), hi)
	}
	lo := y.AsX()
	f(hi, lo, lo)
	if t.size == 4 {
		VMOVHLPS(lo, lo, hi)
		f(hi, lo, lo)
		VMOVSHDUP(lo, hi)
		f(hi, lo, lo)
	} else {
		VPERMILPD(U8(1), lo, hi)
		f(hi, lo, lo)
	}
	return lo
}

// newAccs returns n zeroed accumulator registers.
func newAccs(t ft, n int) []VecVirtual {
	acc := make([]VecVirtual, n)
	for i := range acc {
		acc[i] = t.V()
		t.xor(acc[i], acc[i], acc[i])
	}
	return acc
}

// treeReduce combines the canonical partial sums held in acc (partial j in
// lane j mod lanes of acc[j/lanes]) by the halving tree of package canon,
// p[i] += p[i+h] for h = P/2 … 1, and returns the register whose low lane
// holds the sum: whole registers for h >= lanes, then upper half onto
// lower half inside acc[0] (hreduce). n, if not nil, holds the number of
// elements summed: a register level whose upper half no element reached
// (n <= h·lanes) only adds +0s, an exact identity, and is jumped over
// (pre names the labels), so short rows skip most of the tree.
func treeReduce(t ft, pre string, acc []VecVirtual, n Register) Register {
	for h := len(acc) / 2; h >= 1; h /= 2 {
		if n != nil {
			CMPQ(n, U32(h*t.lanes))
			JLE(LabelRef(fmt.Sprintf("%s_h%d", pre, h)))
		}
		for i := 0; i < h; i++ {
			t.add(acc[i+h], acc[i], acc[i])
		}
		if n != nil {
			Label(fmt.Sprintf("%s_h%d", pre, h))
		}
	}
	return hreduce(t, t.add, acc[0])
}

func mem(p Register, t ft, elemOff int) Mem {
	return Mem{Base: p, Disp: elemOff * t.size}
}

func ptr(name string) Register { return Load(Param(name), GP64()) }

const unroll = 4

// paramAddr returns the memory operand of a scalar argument, resolved from
// the function's signature (so that a signature change cannot leave a
// hard-coded offset behind); broadcasting it from memory keeps to VEX/EVEX
// instructions.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// text starts a function; every kernel takes pointers that do not escape.
func text(name, sig string) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
}

// shiftOf returns log2 of n (a power of two).
func shiftOf(n int) uint8 {
	s := uint8(0)
	for 1<<s < n {
		s++
	}
	return s
}

// partialsOf returns the canonical number of partial sums for accumulators
// of type t (package canon): 64 for float32, 32 for float64.
func partialsOf(t ft) int {
	if t.size == 4 {
		return canon.Partials32
	}
	return canon.Partials64
}
