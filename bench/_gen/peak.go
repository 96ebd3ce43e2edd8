// Command peak generates bench/peak_amd64.s, the peak-probe assembly of
// package bench: FMA throughput loops with many independent accumulator
// chains (AVX2+FMA on ymm, AVX-512 on zmm, f32 and f64), a streaming-read
// loop and a dependent-add chain that measures the core clock.
//
// Run it through `go generate ./bench` (see bench/peak_amd64.go).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// fmaChains is the number of independent accumulator chains of the FMA
// probes. Zen 3 has two 256-bit FMA pipes with 4-cycle latency, so at
// least 8 chains are needed to keep both busy; 12 leaves margin (and
// leaves 2 of the 16 ymm registers for the multiplier and the addend).
const fmaChains = 12

// fmaChains512 is the chain count for the zmm version (32 registers).
const fmaChains512 = 24

// unrollFMA is how many times the chain block is repeated per loop trip,
// so the loop counter costs nothing measurable.
const unrollFMA = 4

type width struct {
	name   string // "AVX2" or "AVX512"
	vec    func() reg.VecVirtual
	chains int
	bytes  int
}

func fma(w width, f64 bool) {
	elem, bcast := "float32", VBROADCASTSS
	fmaInsn := VFMADD213PS
	lanes := w.bytes / 4
	if f64 {
		elem, bcast = "float64", VBROADCASTSD
		fmaInsn = VFMADD213PD
		lanes = w.bytes / 8
	}
	name := fmt.Sprintf("fma%s%s", map[bool]string{false: "F32", true: "F64"}[f64], w.name)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(iters int, m, c %s, out *[%d]%s)", elem, lanes, elem))
	Doc(fmt.Sprintf("%s runs iters trips of %d rounds over %d independent chains acc = m·acc + c (one %d-bit FMA per chain and round) and stores the lane-wise sum of the chains in out.",
		name, unrollFMA, w.chains, w.bytes*8))
	n := Load(Param("iters"), GP64())
	m, c := w.vec(), w.vec()
	bcast(Load(Param("m"), XMM()), m)
	bcast(Load(Param("c"), XMM()), c)
	acc := make([]reg.VecVirtual, w.chains)
	for i := range acc {
		acc[i] = w.vec()
		VXORPS(acc[i], acc[i], acc[i])
	}
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("loop")
	for u := 0; u < unrollFMA; u++ {
		for i := range acc {
			fmaInsn(c, m, acc[i])
		}
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	add := VADDPS
	if f64 {
		add = VADDPD
	}
	for i := 1; i < len(acc); i++ {
		add(acc[i], acc[0], acc[0])
	}
	out := Mem{Base: Load(Param("out"), GP64())}
	VMOVUPS(acc[0], out)
	VZEROUPPER()
	RET()
}

// read streams buf through 8 vector loads per trip, xor-folding into 8
// accumulators (a load-bound loop: one cheap integer op per load).
func read() {
	TEXT("readAVX2", NOSPLIT, "func(buf []byte) uint64")
	Doc("readAVX2 reads buf (len a multiple of 256) with 32-byte loads and returns an xor fold of it.")
	p := Load(Param("buf").Base(), GP64())
	n := Load(Param("buf").Len(), GP64())
	acc := make([]reg.VecVirtual, 8)
	for i := range acc {
		acc[i] = YMM()
		VPXOR(acc[i], acc[i], acc[i])
	}
	SHRQ(U8(8), n)
	JZ(LabelRef("fold"))
	Label("loop")
	for i := range acc {
		VPXOR(Mem{Base: p, Disp: 32 * i}, acc[i], acc[i])
	}
	ADDQ(U32(256), p)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("fold")
	for i := 1; i < len(acc); i++ {
		VPXOR(acc[i], acc[0], acc[0])
	}
	hi := XMM()
	VEXTRACTI128(U8(1), acc[0], hi)
	VPXOR(hi, acc[0].AsX(), hi)
	r, r2 := GP64(), GP64()
	VMOVQ(hi, r)
	VPEXTRQ(U8(1), hi, r2)
	XORQ(r2, r)
	Store(r, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// clockChainLen is the number of dependent single-cycle adds per trip.
const clockChainLen = 32

// clock runs a chain of dependent register-to-register integer adds
// (latency 1 cycle each on every x86 core of the last 20 years), so
// trips·clockChainLen / time is the core clock. The addend is a register,
// not an immediate: Intel cores since Golden Cove (Alder Lake, Sapphire
// and Emerald Rapids) fold chains of immediate adds at rename and ran the
// former ADDQ $1 chain at ~6 adds per cycle (a "20 GHz" clock on a
// 3.6 GHz Emerald Rapids).
func clock() {
	TEXT("addChain", NOSPLIT, "func(iters int) uint64")
	Doc(fmt.Sprintf("addChain runs iters trips of %d dependent register ADDQ (one cycle each) and returns the sum.", clockChainLen))
	n := Load(Param("iters"), GP64())
	a, one := GP64(), GP64()
	XORQ(a, a)
	MOVQ(U32(1), one)
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("loop")
	for i := 0; i < clockChainLen; i++ {
		ADDQ(one, a)
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	Store(a, ReturnIndex(0))
	RET()
}

func main() {
	ConstraintExpr("amd64,gc,!purego")
	avx2 := width{"AVX2", YMM, fmaChains, 32}
	avx512 := width{"AVX512", ZMM, fmaChains512, 64}
	for _, w := range []width{avx2, avx512} {
		fma(w, false)
		fma(w, true)
	}
	read()
	clock()
	Generate()
}
