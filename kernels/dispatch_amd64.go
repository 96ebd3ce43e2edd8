//go:build amd64 && gc && !purego

package kernels

// asmLevel is the highest level each kernel has assembly for in this build:
// every kernel has AVX2 (YMM) and AVX-512 (ZMM) code, generated from the
// same templates (kernels/_gen).
var asmLevel = [numKernels]Level{
	kDot: AVX512, kAxpy: AVX512, kScale: AVX512, kAddTo: AVX512, kSubFrom: AVX512, kMulTo: AVX512,
	kSum: AVX512, kSumSq: AVX512, kSumSq64: AVX512, kMax: AVX512, kArgMax: AVX512,
	kAddBias: AVX512, kColSum: AVX512,
	kRowMax: AVX512, kReLU: AVX512, kBiasReLU: AVX512, kReLUBackward: AVX512, kExp: AVX512,
	kSoftmaxRows: AVX512, kSoftmaxCERows: AVX512, kHingeRows: AVX512, kU8ToFloat: AVX512,
	kMomentumStep: AVX512, kRMSPropStep: AVX512, kAdamStep: AVX512,
}
