//go:build amd64 && gc && !purego

package fused

import (
	"testing"

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

// TestAVX512Dispatch: at the avx512 level MulAdd, MulAddTN, MulAddNT and Transpose run their
// AVX-512 paths, and below it they do not. (The conformance tests compare
// every level's bits.)
func TestAVX512Dispatch(t *testing.T) {
	trace512 = true
	defer func() { trace512 = false }()
	a := make([]float32, 40*40)
	c := make([]float32, 40*40)
	for _, lvl := range kernels.Levels() {
		restore := kernels.SetISA(lvl)
		before := calls512
		MulAdd(5, 16, 40, a, 40, 1, a, 16, c, 16)
		MulAddTN(5, 40, 20, a, 40, a, 40, c, 40)
		MulAddNT(5, 10, 40, a, 40, a, 40, c, 40)
		Transpose(20, 10, a, 10, c, 20)
		restore()
		for i, name := range []string{"MulAdd", "MulAddTN", "MulAddNT", "Transpose"} {
			ran := calls512[i] > before[i]
			if ran != (lvl >= kernels.AVX512) {
				t.Errorf("isa=%v: %s ran its AVX-512 path: %v", lvl, name, ran)
			}
		}
	}
}
