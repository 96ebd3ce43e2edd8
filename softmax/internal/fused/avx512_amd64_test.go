//go:build amd64 && gc && !purego

package fused

import (
	"testing"
	"unsafe"

	"github.com/nnkern/nnkern/internal/asmcheck"
	"github.com/nnkern/nnkern/kernels"
)

// TestAsmRequires: the AVX2 kernels need only the AVX2 level's features,
// the AVX-512 ones (…AVX512) only F/DQ/BW/VL on top, and use them. It
// reads the .s file, so it runs on any machine.
func TestAsmRequires(t *testing.T) {
	req, err := asmcheck.Requires(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range asmcheck.Check(req) {
		t.Error(e)
	}
}

// TestAVX512Dispatch: at the avx512 level MulAdd, MulAddTN, MulAddNT,
// Transpose and MulAddPacked (float64) run their AVX-512 paths, and below
// it they do not. (The conformance tests compare
// every level's bits.)
func TestAVX512Dispatch(t *testing.T) {
	trace512 = true
	defer func() { trace512 = false }()
	a := make([]float32, 40*40)
	c := make([]float32, 40*40)
	a64 := make([]float64, 40*40)
	c64 := make([]float64, 40*40)
	for _, lvl := range kernels.Levels() {
		restore := kernels.SetISA(lvl)
		before := calls512
		MulAdd(5, 16, 40, a, 40, 1, a, 16, c, 16)
		MulAddTN(5, 40, 20, a, 40, a, 40, c, 40)
		MulAddNT(5, 10, 40, a, 40, a, 40, c, 40)
		Transpose(20, 10, a, 10, c, 20)
		MulAddPacked(5, 10, 40, a64, 40, a64, c64, 10)
		MulAddPacked(5, 10, 40, a, 40, a, c, 10)
		restore()
		for i, name := range []string{"MulAdd", "MulAddTN", "MulAddNT", "Transpose", "", "MulAddPacked"} {
			if name == "" {
				continue // calls512[4] counts row blocks: TestNTRealignDispatch
			}
			ran := calls512[i] > before[i]
			if ran != (lvl >= kernels.AVX512) {
				t.Errorf("isa=%v: %s ran its AVX-512 path: %v", lvl, name, ran)
			}
		}
	}
}

// TestNTRealignDispatch: at the avx512 level, MulAddNT runs the
// realigning kernels (ntF32AVX512U, ntF64AVX512U) for the row blocks with
// a row off a 64-byte line, and the plain ones for blocks of aligned rows;
// below it, neither. (TestMulAddNT and the other conformance tests compare
// both kinds' bits with the documented order: their rows start at random
// offsets.)
func TestNTRealignDispatch(t *testing.T) {
	trace512 = true
	defer func() { trace512 = false }()
	buf := make([]float32, 64*48+16)
	i0 := 0
	for uintptr(unsafe.Pointer(&buf[i0]))&63 != 0 {
		i0++
	}
	buf64 := make([]float64, 8*48+8)
	j0 := 0
	for uintptr(unsafe.Pointer(&buf64[j0]))&63 != 0 {
		j0++
	}
	c := make([]float32, 64)
	c64 := make([]float64, 64)
	for _, lvl := range kernels.Levels() {
		restore := kernels.SetISA(lvl)
		for _, tc := range []struct {
			name   string
			f      func()
			blocks int // row blocks with a misaligned row
		}{
			{"f32 aligned rows", func() { MulAddNT(8, 5, 40, buf[i0:], 48, buf[i0:], 48, c, 5) }, 0},
			{"f32 first row off a line", func() { MulAddNT(4, 5, 40, buf[i0+1:], 48, buf[i0:], 48, c, 5) }, 1},
			{"f32 stride off lines", func() { MulAddNT(8, 5, 40, buf[i0:], 41, buf[i0:], 48, c, 5) }, 2},
			{"f32 k shorter than a vector", func() { MulAddNT(4, 5, 15, buf[i0+1:], 41, buf[i0:], 48, c, 5) }, 0},
			{"f32 one aligned row, stride off lines", func() { MulAddNT(1, 5, 40, buf[i0:], 41, buf[i0:], 48, c, 5) }, 0},
			{"f64 aligned rows", func() { MulAddNT(4, 5, 40, buf64[j0:], 48, buf64[j0:], 48, c64, 5) }, 0},
			{"f64 stride off lines", func() { MulAddNT(5, 5, 40, buf64[j0:], 43, buf64[j0:], 48, c64, 5) }, 2},
		} {
			before := calls512[4]
			tc.f()
			want := 0
			if lvl >= kernels.AVX512 {
				want = tc.blocks
			}
			if got := calls512[4] - before; got != want {
				t.Errorf("isa=%v, %s: %d row blocks ran the realigning kernels, want %d", lvl, tc.name, got, want)
			}
		}
		restore()
	}
}
