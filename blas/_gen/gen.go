// Command gen generates the AVX2+FMA and AVX-512 GEMM micro-kernels of
// package blas (blas/gemm_kernel_amd64.s and its Go declarations).
//
// Run it through `go generate ./blas` (see blas/kernel_amd64.go).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// mr is the number of rows of C a micro-kernel updates; the number of
// columns is two vectors (16 float32 or 8 float64).
const mr = 6

// isa is the vector width the kernels are emitted for: AVX2 (YMM, 16
// registers) or AVX-512 (ZMM, 32 registers; F, DQ and VL). The same template
// emits both; the wider registers double the columns of a tile (nr) and
// the larger register file lets every kernel run two 6-row tiles at once.
type isa struct {
	name  string        // kernel name part: "AVX2", "AVX512"
	bytes int           // register width
	regs  []VecPhysical // the vector registers, in order
	// accs is the most accumulator registers a body may use: two tiles
	// of the full 2-vector width on AVX-512, one on AVX2.
	accs int
}

var (
	avx2 = isa{name: "AVX2", bytes: 32, accs: 12,
		regs: []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}}
	avx512 = isa{name: "AVX512", bytes: 64, accs: 24,
		regs: []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}}
)

// elem describes one element type: its name in Go, byte-size shift and the
// instructions for it (the same mnemonics take YMM or ZMM operands).
type elem struct {
	goType    string
	suffix    string
	shift     uint64
	lanes     int
	broadcast func(mx, y Op)
	fmadd     func(m, x, y Op)
	mul       func(m, x, y Op)
	add       func(m, x, y Op)
	load      func(m, y Op)
	store     func(y, m Op)
}

var (
	f32 = elem{
		goType: "float32", suffix: "F32", shift: 2, lanes: 8,
		broadcast: func(mx, y Op) { VBROADCASTSS(mx, y) },
		fmadd:     func(m, x, y Op) { VFMADD231PS(m, x, y) },
		mul:       func(m, x, y Op) { VMULPS(m, x, y) },
		add:       func(m, x, y Op) { VADDPS(m, x, y) },
		load:      func(m, y Op) { VMOVUPS(m, y) },
		store:     func(y, m Op) { VMOVUPS(y, m) },
	}
	f64 = elem{
		goType: "float64", suffix: "F64", shift: 3, lanes: 4,
		broadcast: func(mx, y Op) { VBROADCASTSD(mx, y) },
		fmadd:     func(m, x, y Op) { VFMADD231PD(m, x, y) },
		mul:       func(m, x, y Op) { VMULPD(m, x, y) },
		add:       func(m, x, y Op) { VADDPD(m, x, y) },
		load:      func(m, y Op) { VMOVUPD(m, y) },
		store:     func(y, m Op) { VMOVUPD(y, m) },
	}
)

func main() {
	ConstraintExpr("amd64,gc,!purego")
	for _, w := range []isa{avx2, avx512} {
		kernel(w, f32, 2)
		kernel(w, f64, 2)
		kernel(w, f32, 1)
		kernel(w, f64, 1)
	}
	peak()
	Generate()
}

// kernel emits gemmKernelAVX2<T>, which updates tiles consecutive
// 6×(2·lanes) tiles of C: tile t is C[6t:6t+6, 0:2·lanes] = alpha·A_t·B +
// beta·C, where A_t element (i, p) is a[t*aNext + i*rsA + p*csA], B element
// (p, j) is b[p*csB + j] (2·lanes contiguous elements per p, the same B for
// every tile) and C element (i, j) is c[i*ldc + j]. With loadC == 0, C is
// only written (beta is ignored). Strides are in elements; k, tiles >= 1.
// Looping over the tiles of a row panel in assembly saves a Go call per
// 6×16 tile (~5% of the kernel's time at kc = 256).
//
// Each element of C has one accumulator, starting at 0 and updated by one
// VFMADD per k step in increasing p, then C = fma(alpha, acc, beta·C)
// (beta·C rounded first) or alpha·acc: the order the Go kernel
// (blas/kernel_go.go) follows, so that every ISA level gives the same bits.
// The FMA latency (4 cycles × 2 pipes) needs >= 8 independent chains: the
// 6×(2·lanes) tile has 12.
//
// With nv = 1 (gemmKernelAVX2<T>Half) the tiles are 6×lanes: the edge
// column panel of C when at most lanes columns remain (n = 200 is 12·16 + 8
// in float32), at half the cost of the padded 2-vector tile. One tile has
// only 6 chains, so the kernel runs two tiles (12 rows) at once while at
// least two remain, and a last odd tile alone; each element's order is the
// same either way.
//
// The AVX-512 kernels (gemmKernelAVX512<T>[Half]) are the same with ZMM
// registers: tiles of 6×(4·lanes) (6×32 float32, 6×16 float64) and half
// that, two tiles at once whenever two remain (24 or 12 accumulators of
// the 32 registers).
func kernel(w isa, e elem, nv int) {
	e.lanes = w.bytes >> e.shift
	name := "gemmKernel" + w.name + e.suffix
	if nv == 1 {
		name += "Half"
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(k int, a *%[1]s, rsA, csA int, b *%[1]s, csB int, c *%[1]s, ldc int, tiles, aNext int, alpha, beta %[1]s, loadC int)", e.goType))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes tiles tiles of C[6t:6t+%d, 0:%d] = alpha·A_t·B + beta·C (see gen.go).", name, mr, nv*e.lanes))
	R := w.regs
	vb := w.bytes
	pair := 2*mr*nv <= w.accs // run two tiles at once

	at := Load(Param("a"), GP64())
	rs := Load(Param("rsA"), GP64())
	SHLQ(Imm(e.shift), rs)
	cs := Load(Param("csA"), GP64())
	SHLQ(Imm(e.shift), cs)
	csb := Load(Param("csB"), GP64())
	SHLQ(Imm(e.shift), csb)
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(e.shift), ldc)
	a0, a3, b, cnt, pc := GP64(), GP64(), GP64(), GP64(), GP64()
	var bpre GPVirtual
	if nv == 2 {
		// Where B is packed (csB = nr elements) and k >= 256,
		// bpre walks the next B micro-panel (it follows at b + k·csB),
		// one line per unrolled iteration, into L2, so that the next
		// panel does not start from memory (2048³: ~3.5% faster in both
		// types, docs/performance.md); otherwise bpre = 0 and the k
		// loop runs without it, because where B stays in L2 (k = 200)
		// or is read in place the extra loads cost more than they save.
		bpre = GP64()
		Load(Param("k"), bpre)
		IMULQ(csb, bpre)
		XORL(pc.As32(), pc.As32())
		CMPQ(csb, Imm(uint64(2*vb)))
		CMOVQNE(pc, bpre)
		CMPQ(paramAddr("k"), U32(256))
		CMOVQLT(pc, bpre)
		TESTQ(bpre, bpre)
		JZ(LabelRef(name + "_nopf"))
		Load(Param("b"), pc)
		ADDQ(pc, bpre)
		Label(name + "_nopf")
	}
	// The second tile's row pointers, when two tiles run at once.
	var b0, b3 GPVirtual
	if pair {
		b0, b3 = GP64(), GP64()
	}

	// body emits the update of nt consecutive tiles (nt·mr·nv <= accs),
	// its labels prefixed by lbl; c ends on the row after the last tile.
	body := func(nt int, lbl string) {
		rows := nt * mr
		MOVQ(at, a0)
		LEAQ(Mem{Base: rs, Index: rs, Scale: 2}, a3)
		ADDQ(a0, a3)
		if nt == 2 {
			Load(Param("aNext"), b0)
			SHLQ(Imm(e.shift), b0)
			ADDQ(at, b0)
			LEAQ(Mem{Base: rs, Index: rs, Scale: 2}, b3)
			ADDQ(b0, b3)
		}
		Load(Param("b"), b)

		// Prefetch the C tiles (each row's first and last byte, the row
		// may straddle two lines): they are read or written after the k
		// loop, and for large C would otherwise miss all the way to
		// memory then. Into L1, except in the AVX-512 kernels when C's
		// rows are a multiple of 4 KiB apart (2048³): then the 12 rows
		// of a tile pair map to one L1 set (4 KiB per way), their lines
		// fill all its ways and push out the A and B lines the k loop
		// is about to read, so they go to L2 only (float64 micro-kernel
		// on a 2048-column C, A in L2: 84–94 → 97–104 GFLOP per
		// CPU-second; a smaller C in L2, such as 3072×200×200 TN's, is
		// ~1.5% faster from L1). The AVX2 kernels' 6 rows leave most
		// of an 8-way set to A and B and keep L1.
		prefetchC := func(pf func(Op)) {
			MOVQ(c, pc)
			for i := 0; i < rows; i++ {
				pf(Mem{Base: pc})
				pf(Mem{Base: pc, Disp: nv*vb - 1})
				if i < rows-1 {
					ADDQ(ldc, pc)
				}
			}
		}
		if w.bytes == 64 {
			TESTQ(U32(4095), ldc)
			JZ(LabelRef(lbl + "_pfc2"))
			prefetchC(func(m Op) { PREFETCHT0(m) })
			JMP(LabelRef(lbl + "_pfcdone"))
			Label(lbl + "_pfc2")
			prefetchC(func(m Op) { PREFETCHT1(m) })
			Label(lbl + "_pfcdone")
		} else {
			prefetchC(func(m Op) { PREFETCHT0(m) })
		}

		// acc[nv*i+h] is row i, vector h.
		acc := R[:rows*nv]
		bv := R[w.accs : w.accs+2]    // B vectors
		bcs := R[w.accs+2 : w.accs+4] // broadcasts of A
		for _, r := range acc {
			VXORPS(r, r, r)
		}
		rowAddr := func(i int) Mem {
			r0, r3 := a0, a3
			if i >= mr {
				r0, r3 = b0, b3
			}
			switch i % mr {
			case 0:
				return Mem{Base: r0}
			case 1:
				return Mem{Base: r0, Index: rs, Scale: 1}
			case 2:
				return Mem{Base: r0, Index: rs, Scale: 2}
			case 3:
				return Mem{Base: r3}
			case 4:
				return Mem{Base: r3, Index: rs, Scale: 1}
			default:
				return Mem{Base: r3, Index: rs, Scale: 2}
			}
		}
		// step emits one k step. With pf (the packed-B loop) the AVX-512
		// kernels also prefetch this micro-panel's B 8 steps ahead into
		// L1: a 512-deep float32 micro-panel of 32 columns (64 KiB) does
		// not fit a 48 KiB L1, so it streams from L2 once per pair of A
		// tiles (~2% faster at 2048³ float32, docs/performance.md).
		step := func(pf bool) {
			e.load(Mem{Base: b}, bv[0])
			if nv == 2 {
				e.load(Mem{Base: b, Disp: vb}, bv[1])
			}
			if pf && w.bytes == 64 && nv == 2 {
				PREFETCHT0(Mem{Base: b, Disp: 8 * 2 * vb})
				PREFETCHT0(Mem{Base: b, Disp: 8*2*vb + 64})
			}
			for i := 0; i < rows; i++ {
				bc := bcs[i%2]
				e.broadcast(rowAddr(i), bc)
				e.fmadd(bv[0], bc, acc[nv*i])
				if nv == 2 {
					e.fmadd(bv[1], bc, acc[nv*i+1])
				}
			}
			ADDQ(cs, a0)
			ADDQ(cs, a3)
			if nt == 2 {
				ADDQ(cs, b0)
				ADDQ(cs, b3)
			}
			ADDQ(csb, b)
		}

		// k/4 unrolled iterations with the loop test at the bottom, then
		// the k%4 remaining steps.
		Load(Param("k"), cnt)
		SHRQ(Imm(2), cnt)
		JZ(LabelRef(lbl + "_tail0"))
		if nv == 2 {
			TESTQ(bpre, bpre)
			JZ(LabelRef(lbl + "_loop4"))
			pcalign64()
			Label(lbl + "_loop4pf")
			PREFETCHT1(Mem{Base: bpre})
			if vb == 64 {
				// A packed AVX-512 B row is two cache lines.
				PREFETCHT1(Mem{Base: bpre, Disp: 64})
			}
			ADDQ(csb, bpre)
			for u := 0; u < 4; u++ {
				step(true)
			}
			DECQ(cnt)
			JNZ(LabelRef(lbl + "_loop4pf"))
			JMP(LabelRef(lbl + "_tail0"))
		}
		pcalign64()
		Label(lbl + "_loop4")
		for u := 0; u < 4; u++ {
			step(false)
		}
		DECQ(cnt)
		JNZ(LabelRef(lbl + "_loop4"))

		Label(lbl + "_tail0")
		Load(Param("k"), cnt)
		ANDQ(Imm(3), cnt)
		JZ(LabelRef(lbl + "_store"))
		Label(lbl + "_tail")
		step(false)
		DECQ(cnt)
		JNZ(LabelRef(lbl + "_tail"))

		// Store: c walks the tiles' rows and ends on the next tile's first.
		Label(lbl + "_store")
		e.broadcast(paramAddr("alpha"), bv[0])
		CMPQ(paramAddr("loadC"), Imm(0))
		JNE(LabelRef(lbl + "_beta"))
		for i := 0; i < rows; i++ {
			for h := 0; h < nv; h++ {
				e.mul(bv[0], acc[nv*i+h], acc[nv*i+h])
				e.store(acc[nv*i+h], Mem{Base: c, Disp: vb * h})
			}
			ADDQ(ldc, c)
		}
		JMP(LabelRef(lbl + "_next"))

		Label(lbl + "_beta")
		e.broadcast(paramAddr("beta"), bv[1])
		for i := 0; i < rows; i++ {
			for h := 0; h < nv; h++ {
				e.mul(Mem{Base: c, Disp: vb * h}, bv[1], bcs[0])
				e.fmadd(bv[0], acc[nv*i+h], bcs[0])
				e.store(bcs[0], Mem{Base: c, Disp: vb * h})
			}
			ADDQ(ldc, c)
		}
		Label(lbl + "_next")
	}

	Label(name + "_tile")
	if pair {
		CMPQ(paramAddr("tiles"), Imm(2))
		JLT(LabelRef(name + "_one"))
		body(2, name+"_pair")
		SUBQ(Imm(2), paramAddr("tiles"))
		JZ(LabelRef(name + "_done"))
		Load(Param("aNext"), pc)
		SHLQ(Imm(e.shift+1), pc)
		ADDQ(pc, at)
		JMP(LabelRef(name + "_tile"))

		// One tile left (tiles was odd).
		Label(name + "_one")
		body(1, name+"_one")
	} else {
		body(1, name)
		DECQ(paramAddr("tiles"))
		JZ(LabelRef(name + "_done"))
		Load(Param("aNext"), pc)
		SHLQ(Imm(e.shift), pc)
		ADDQ(pc, at)
		JMP(LabelRef(name + "_tile"))
	}

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// paramAddr returns the memory operand of a scalar argument, so that it is
// broadcast by a VEX instruction. avo's Load would use legacy-SSE MOVSS,
// which mixed with dirty upper ymm halves cost ~900 cycles per call on
// Zen 3 (the 6×16 kernel at kc=256 ran at 62% of the FMA peak instead of
// 90–97%).
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// peak emits fmaPeakAVX2(n): n iterations of 12 independent 256-bit FMAs
// (192 float32 FLOP each), the benchmark probe of the machine's FMA peak.
func peak() {
	TEXT("fmaPeakAVX2", NOSPLIT, "func(n int)")
	Doc("fmaPeakAVX2 runs n iterations of 12 independent VFMADD231PS (ymm): 192 float32 FLOP each.")
	n := Load(Param("n"), GP64())
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	VXORPS(Y12, Y12, Y12)
	VXORPS(Y13, Y13, Y13)
	Label("fmaPeakAVX2_loop")
	TESTQ(n, n)
	JZ(LabelRef("fmaPeakAVX2_done"))
	for _, r := range acc {
		VFMADD231PS(Y12, Y13, r)
	}
	DECQ(n)
	JMP(LabelRef("fmaPeakAVX2_loop"))
	Label("fmaPeakAVX2_done")
	VZEROUPPER()
	RET()
}

// pcalign64 aligns the next instruction (a hot loop's first) to 64 bytes
// (the assembler pads with NOPs), so that where the loop lands does not
// depend on the code before it.
func pcalign64() {
	Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{Imm(64)}})
}
