package kernels

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	ls := Levels()
	if len(ls) == 0 || ls[0] != Detected() || ls[len(ls)-1] != Generic {
		t.Fatalf("Levels() = %v, want %v down to generic", ls, Detected())
	}
	for _, l := range ls {
		restore := SetISA(l)
		if ISA() != l {
			t.Fatalf("after SetISA(%v), ISA() = %v", l, ISA())
		}
		for _, k := range Kernels() {
			d := Dispatched(k)
			impl := Implemented(k)
			if d > l || len(impl) == 0 || impl[len(impl)-1] != Generic {
				t.Fatalf("isa=%v: %s dispatched at %v, implemented %v", l, k, d, impl)
			}
		}
		restore()
	}
	if Implemented("NoSuchKernel") != nil {
		t.Fatal("Implemented of an unknown kernel is not nil")
	}
	if Detected() < AVX512 {
		mustPanic(t, func() { SetISA(AVX512) }, "kernels.SetISA(avx512)")
	}
	for _, c := range []struct {
		s    string
		want Level
		ok   bool
	}{{"avx2", AVX2, true}, {" AVX512 ", AVX512, true}, {"generic", Generic, true}, {"purego", Generic, true}, {"sse", Generic, false}} {
		l, err := ParseLevel(c.s)
		if (err == nil) != c.ok || (c.ok && l != c.want) {
			t.Errorf("ParseLevel(%q) = %v, %v", c.s, l, err)
		}
	}
}

// TestAsmDispatched checks, for every kernel with assembly, that at each
// level the machine has the dispatcher calls the assembly exactly when the
// level allows it (the conformance tests check the same per kernel).
func TestAsmDispatched(t *testing.T) {
	x32, y32 := make([]float32, 9), make([]float32, 9)
	x64, y64 := make([]float64, 9), make([]float64, 9)
	z32, u32, z64, u64 := make([]float32, 9), make([]float32, 9), make([]float64, 9), make([]float64, 9)
	calls := map[string]func(){
		"Dot":          func() { Dot(x32, y32); Dot(x64, y64) },
		"Axpy":         func() { Axpy(1, x32, y32); Axpy(1, x64, y64) },
		"Scale":        func() { Scale(1, x32); Scale(1, x64) },
		"AddTo":        func() { AddTo(x32, y32); AddTo(x64, y64) },
		"SubFrom":      func() { SubFrom(x32, y32); SubFrom(x64, y64) },
		"MulTo":        func() { MulTo(x32, y32); MulTo(x64, y64) },
		"Sum":          func() { Sum(x32); Sum(x64) },
		"SumSq":        func() { SumSq(x32); SumSq(x64) },
		"SumSq64":      func() { SumSq64(x32); SumSq64(x64) },
		"Max":          func() { Max(x32); Max(x64) },
		"ArgMax":       func() { ArgMax(x32); ArgMax(x64) },
		"AddBias":      func() { AddBias(x32, 3, 3, 3, y32[:3]); AddBias(x64, 3, 3, 3, y64[:3]) },
		"ColSum":       func() { ColSum(y32[:3], x32, 3, 3, 3); ColSum(y64[:3], x64, 3, 3, 3) },
		"RowMax":       func() { RowMax(y32[:3], x32, 3, 3, 3); RowMax(y64[:3], x64, 3, 3, 3) },
		"ReLU":         func() { ReLU(x32, y32); ReLU(x64, y64) },
		"BiasReLU":     func() { BiasReLU(x32, 3, 3, 3, y32[:3]); BiasReLU(x64, 3, 3, 3, y64[:3]) },
		"ReLUBackward": func() { ReLUBackward(x32, y32); ReLUBackward(x64, y64) },
		"Exp":          func() { Exp(x32, y32); Exp(x64, y64) },
		"SoftmaxRows":  func() { SoftmaxRows(x32, y32, 3, 3, 3); SoftmaxRows(x64, y64, 3, 3, 3) },
		"SoftmaxCERows": func() {
			SoftmaxCERows(x32, y32, 3, 3, 3, []int{0, 1, 2}, 1)
			SoftmaxCERows(x64, y64, 3, 3, 3, []int{0, 1, 2}, 1)
		},
		"HingeRows": func() {
			HingeRows(x32, y32, 3, 3, 3, []int{0, 1, 2}, 1)
			HingeRows(x64, y64, 3, 3, 3, []int{0, 1, 2}, 1)
		},
		"U8ToFloat":    func() { U8ToFloat(x32, make([]uint8, 9), y32); U8ToFloat(x64, make([]uint8, 9), y64) },
		"MomentumStep": func() { MomentumStep(x32, y32, z32, 1, 1); MomentumStep(x64, y64, z64, 1, 1) },
		"RMSPropStep":  func() { RMSPropStep(x32, y32, z32, 1, 1, 1, 1); RMSPropStep(x64, y64, z64, 1, 1, 1, 1) },
		"AdamStep": func() {
			AdamStep(x32, y32, z32, u32, 1, 1, 1, 1, 1, 1, 1, 1)
			AdamStep(x64, y64, z64, u64, 1, 1, 1, 1, 1, 1, 1, 1)
		},
	}
	if len(calls) != int(numKernels) {
		t.Fatalf("test covers %d kernels, package has %d", len(calls), numKernels)
	}
	for _, l := range Levels() {
		restore := SetISA(l)
		traceAsm = true
		for k := kernelID(0); k < numKernels; k++ {
			name := kernelNames[k]
			before := asmCalls
			calls[name]()
			for lv := AVX2; lv <= AVX512; lv++ {
				n := asmCalls[lv][k] - before[lv][k]
				want := 0
				if Dispatched(name) == lv {
					want = 2
				}
				if n != want {
					t.Errorf("isa=%v: %s called its %v assembly %d times, want %d (dispatched at %v)", l, name, lv, n, want, Dispatched(name))
				}
			}
		}
		traceAsm = false
		restore()
	}
	// On a machine with AVX2 in a build with assembly, the AVX2 kernels
	// must be there.
	if Detected() >= AVX2 {
		if Implemented("Dot")[0] < AVX2 {
			t.Fatal("AVX2 machine, but Dot has no AVX2 implementation")
		}
	}
}

// TestEnvISA runs the test binary with NNKERN_ISA set and checks what the
// package decided at init.
func TestEnvISA(t *testing.T) {
	if os.Getenv("NNKERN_ISA_CHILD") == "1" {
		e := EnvError()
		msg := "nil"
		if e != nil {
			msg = e.Error()
		}
		os.Stdout.WriteString("ISA=" + ISA().String() + " ERR=" + msg + "\n")
		return
	}
	run := func(val string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvISA$")
		cmd.Env = append(os.Environ(), "NNKERN_ISA_CHILD=1", "NNKERN_ISA="+val)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run("generic"); !strings.Contains(out, "ISA=generic ERR=nil") {
		t.Errorf("NNKERN_ISA=generic: %s", out)
	}
	if out := run("bogus"); !strings.Contains(out, "ISA="+Detected().String()) || !strings.Contains(out, `unknown ISA level "bogus"`) {
		t.Errorf("NNKERN_ISA=bogus: %s", out)
	}
	if Detected() < AVX512 {
		if out := run("avx512"); !strings.Contains(out, "ERR=NNKERN_ISA=avx512: this CPU (or build) supports at most") {
			t.Errorf("NNKERN_ISA=avx512: %s", out)
		}
	}
}
