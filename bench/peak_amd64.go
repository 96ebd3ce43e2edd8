//go:build amd64 && gc && !purego

package bench

import "github.com/nnkern/nnkern/kernels"

//go:generate sh -c "cd _gen && go run . -out ../peak_amd64.s -stubs ../peak_stubs_amd64.go -pkg bench"

// asmProbes reports whether the assembly peak probes are compiled in.
const asmProbes = true

// fmaAsm runs the assembly FMA probe of level for trips trips and returns
// the FLOPs it performed and the lane sum of its accumulators (so the
// result can be checked). ok is false when there is no probe for level.
func fmaAsm(level kernels.Level, f64 bool, trips int) (flops, sum float64, ok bool) {
	const m, c = 0.5, 1.0 // every chain converges to c/(1-m) = 2
	switch {
	case level == kernels.AVX2 && !f64:
		var out [8]float32
		fmaF32AVX2(trips, m, c, &out)
		for _, v := range out {
			sum += float64(v)
		}
		return float64(trips * 4 * 12 * 8 * 2), sum, true
	case level == kernels.AVX2 && f64:
		var out [4]float64
		fmaF64AVX2(trips, m, c, &out)
		for _, v := range out {
			sum += v
		}
		return float64(trips * 4 * 12 * 4 * 2), sum, true
	case level == kernels.AVX512 && !f64:
		var out [16]float32
		fmaF32AVX512(trips, m, c, &out)
		for _, v := range out {
			sum += float64(v)
		}
		return float64(trips * 4 * 24 * 16 * 2), sum, true
	case level == kernels.AVX512 && f64:
		var out [8]float64
		fmaF64AVX512(trips, m, c, &out)
		for _, v := range out {
			sum += v
		}
		return float64(trips * 4 * 24 * 8 * 2), sum, true
	}
	return 0, 0, false
}

// fmaChainsAsm is the number of independent accumulator chains (and lanes
// per chain) of the assembly probe of level; the probe's accumulators sum
// to chains·lanes·2 once converged.
func fmaChainsAsm(level kernels.Level, f64 bool) (chains, lanes int) {
	lanes = 8
	if f64 {
		lanes = 4
	}
	if level == kernels.AVX512 {
		return 24, lanes * 2
	}
	return 12, lanes
}

// readBuf streams buf (len a multiple of 256) through the read probe.
func readBuf(buf []byte) uint64 { return readAVX2(buf) }

// readImpl names the read probe's implementation.
const readImpl = "asm"

// clockTrip is the number of dependent one-cycle adds per trip of
// addChain.
const clockTrip = 32

// clockChain runs trips trips of the dependent add chain.
func clockChain(trips int) uint64 { return addChain(trips) }
