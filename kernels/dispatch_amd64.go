//go:build amd64 && gc && !purego

package kernels

// asmLevel is the highest level each kernel has assembly for in this build.
var asmLevel = [numKernels]Level{
	kDot: AVX2, kAxpy: AVX2, kScale: AVX2, kAddTo: AVX2, kSubFrom: AVX2, kMulTo: AVX2,
	kSum: AVX2, kSumSq: AVX2, kMax: AVX2, kArgMax: AVX2, kAddBias: AVX2, kColSum: AVX2,
	kRowMax: AVX2, kReLU: AVX2, kBiasReLU: AVX2, kReLUBackward: AVX2, kExp: AVX2,
	kSoftmaxRows: AVX2, kSoftmaxCERows: AVX2, kHingeRows: AVX2, kU8ToFloat: AVX2,
}

// useAVX2 reports whether kernels with AVX2 assembly should run it.
func useAVX2() bool { return level >= AVX2 }
