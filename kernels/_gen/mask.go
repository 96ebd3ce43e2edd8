package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vmask is a per-lane predicate. With AVX2 it is a vector register whose
// lanes are all ones or all zeros (what VCMPPS writes and VMASKMOVPS and
// VBLENDVPS read); with AVX-512 it is an opmask register K (what VCMPPS
// writes there, and what masked moves and VBLENDMPS read). These helpers
// are the only code that differs between the two widths; every kernel is
// written against them. The zero vmask, none, means "every lane".
type vmask struct {
	v VecVirtual // AVX2
	k Register   // AVX-512
}

var none vmask

func (m vmask) isNone() bool { return m.v == nil && m.k == nil }

// tailBits returns the AVX-512 table of first-n-lanes masks: entry n
// (0 <= n <= 16) is the uint16 (1<<n)-1.
func tailBits() Mem {
	if m, ok := consts["tailbits"]; ok {
		return m
	}
	m := GLOBL("ctailbits", RODATA|NOPTR)
	for n := 0; n <= 16; n++ {
		DATA(2*n, U16(uint16(1<<n-1)))
	}
	consts["tailbits"] = m
	return m
}

// tailMask returns the AVX2 sliding mask table (AVX-512 masks come from
// tailBits): lanes all-ones elements
// followed by lanes zero elements. Loading 32 bytes at offset
// (lanes-n)*size gives a mask with the first n lanes set.
func tailMask(t ft) Mem {
	if t.w.is512() {
		panic("tailMask: the AVX2 table at AVX-512 width")
	}
	key := t.name + "tailmask"
	if m, ok := consts[key]; ok {
		return m
	}
	m := GLOBL("c"+t.name+"tailmask", RODATA|NOPTR)
	for i := 0; i < 2*t.lanes; i++ {
		v := uint64(0)
		if i < t.lanes {
			v = ^uint64(0)
		}
		if t.size == 4 {
			DATA(4*i, U32(uint32(v)))
		} else {
			DATA(8*i, U64(v))
		}
	}
	consts[key] = m
	return m
}

// loadMask returns the mask of the first n (0 <= n <= lanes) lanes. n is
// not modified.
func loadMask(t ft, n Register) vmask {
	tbl := GP64()
	if t.w.is512() {
		LEAQ(tailBits(), tbl)
		k := K()
		KMOVW(Mem{Base: tbl, Index: n, Scale: 2}, k)
		return vmask{k: k}
	}
	LEAQ(tailMask(t), tbl)
	neg := GP64()
	MOVQ(n, neg)
	NEGQ(neg)
	mask := t.V()
	VMOVDQU(Mem{Base: tbl, Index: neg, Scale: uint8(t.size), Disp: 32}, mask)
	return vmask{v: mask}
}

// zeroMask returns a mask with no lane set.
func zeroMask(t ft) vmask {
	if t.w.is512() {
		k := K()
		KXORW(k, k, k)
		return vmask{k: k}
	}
	v := t.V()
	t.xor(v, v, v)
	return vmask{v: v}
}

// maskHome keeps a mask for use later in a kernel, across loops and calls
// to the exp template: with AVX2 in a stack slot (the 16 YMM registers are
// all taken there), with AVX-512 in an opmask register of its own (the
// vector code does not compete for them, and a reload from memory would
// put a store-to-load round trip in front of every masked access).
type maskHome struct {
	slot Mem
	k    Register
}

func newMaskHome(t ft) maskHome {
	if t.w.is512() {
		return maskHome{k: K()}
	}
	return maskHome{slot: AllocLocal(32)}
}

func (h maskHome) set(t ft, m vmask) {
	if t.w.is512() {
		KMOVW(m.k, h.k)
		return
	}
	VMOVDQU(m.v, h.slot)
}

func (h maskHome) get(t ft) vmask {
	if t.w.is512() {
		return vmask{k: h.k}
	}
	v := t.V()
	VMOVDQU(h.slot, v)
	return vmask{v: v}
}

// vload loads a vector, or with a mask only its lanes (the others zero).
func vload(t ft, m Mem, mask vmask, dst Register) {
	switch {
	case mask.isNone():
		t.load(m, dst)
	case t.w.is512():
		t.loadZ(m, mask.k, dst, nil)
	default:
		t.maskmov(m, mask.v, dst)
	}
}

// vstore stores a vector, or with a mask only its lanes.
func vstore(t ft, src Register, mask vmask, m Mem) {
	switch {
	case mask.isNone():
		t.store(src, m)
	case t.w.is512():
		t.store(src, mask.k, m)
	default:
		t.maskmov(src, mask.v, m)
	}
}

// cmpMask returns the lanes where a pred b holds (b may be memory); with
// within set, only among its lanes.
func cmpMask(t ft, pred uint8, b Op, a Register, within vmask) vmask {
	if t.w.is512() {
		k := K()
		if within.isNone() {
			t.cmp(U8(pred), b, a, k)
		} else {
			t.cmp(U8(pred), b, a, within.k, k)
		}
		return vmask{k: k}
	}
	v := t.V()
	t.cmp(U8(pred), b, a, v)
	if !within.isNone() {
		t.and(within.v, v, v)
	}
	return vmask{v: v}
}

// icmpEqMask returns the lanes where the integers (of t's element width)
// of a and b are equal.
func icmpEqMask(t ft, b Op, a Register) vmask {
	var dst Register
	if t.w.is512() {
		dst = K()
	} else {
		dst = t.V()
	}
	if t.size == 4 {
		VPCMPEQD(b, a, dst)
	} else {
		VPCMPEQQ(b, a, dst)
	}
	if t.w.is512() {
		return vmask{k: dst}
	}
	return vmask{v: dst.(VecVirtual)}
}

// keep sets dst = mask ? v : 0.
func keep(t ft, m vmask, v, dst Register) {
	if t.w.is512() {
		t.loadZ(v, m.k, dst, nil)
		return
	}
	t.and(m.v, v, dst)
}

// sel sets dst = mask ? a : b (a may be memory).
func sel(t ft, m vmask, a Op, b, dst Register) {
	if t.w.is512() {
		t.blendm(a, b, m.k, dst)
		return
	}
	t.blendv(m.v, a, b, dst)
}

// maskOr sets a |= b.
func maskOr(t ft, a, b vmask) {
	if t.w.is512() {
		KORW(b.k, a.k, a.k)
		return
	}
	t.or(b.v, a.v, a.v)
}

// maskAndNot returns a & ^b (with AVX2 in a's register, which it
// overwrites; with AVX-512 in a new opmask register).
func maskAndNot(t ft, a, b vmask) vmask {
	if t.w.is512() {
		k := K()
		KANDNW(a.k, b.k, k)
		return vmask{k: k}
	}
	t.andn(a.v, b.v, a.v)
	return a
}

// maskBits returns the mask's lanes as the low bits of a GP register.
func maskBits(t ft, m vmask) GPVirtual {
	bits := GP32()
	maskBitsTo(t, m, bits)
	return bits
}

// maskBitsTo is maskBits into the given 32-bit register.
func maskBitsTo(t ft, m vmask, bits Register) {
	if t.w.is512() {
		KMOVW(m.k, bits)
	} else {
		t.movmsk(m.v, bits)
	}
}
