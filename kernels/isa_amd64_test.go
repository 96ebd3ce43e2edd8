//go:build amd64 && gc && !purego

package kernels

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// TestDetectCrossCheck compares the cpuid-based detection with a second,
// independent source (golang.org/x/sys/cpu, which also checks that the OS
// saves the vector registers). If detection wrongly returned a lower level,
// Levels() would shrink and every isa=avx2 (or avx512) conformance subtest
// would silently disappear instead of failing; this test makes that a
// failure.
func TestDetectCrossCheck(t *testing.T) {
	want := Generic
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasPOPCNT {
		want = AVX2
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL {
			want = AVX512
		}
	}
	if Detected() != want {
		t.Fatalf("kernels detected %v, golang.org/x/sys/cpu says the CPU supports %v", Detected(), want)
	}
	if ls := Levels(); ls[0] != want {
		t.Fatalf("Levels() = %v: the conformance tests would not cover %v", ls, want)
	}
}

func cpuName() string { return cpuid.CPU.BrandName }
