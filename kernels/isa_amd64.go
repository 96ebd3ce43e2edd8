//go:build amd64 && gc && !purego

package kernels

import "github.com/klauspost/cpuid/v2"

func detectLevel() Level {
	c := cpuid.CPU
	// POPCNT: the hinge kernels count positive margins with it; every CPU
	// with AVX2 has it, but it has a CPUID bit of its own.
	avx2 := c.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.POPCNT)
	if avx2 && c.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL) {
		return AVX512
	}
	if avx2 {
		return AVX2
	}
	return Generic
}
