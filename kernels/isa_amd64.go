//go:build amd64 && gc && !purego

package kernels

import "github.com/klauspost/cpuid/v2"

func detectLevel() Level {
	c := cpuid.CPU
	if c.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL) &&
		c.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		return AVX512
	}
	if c.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		return AVX2
	}
	return Generic
}
