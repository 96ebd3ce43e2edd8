//go:build amd64 && gc && !purego

package kernels

import "github.com/nnkern/nnkern/internal/dtype"

// Dispatch as in level1_amd64.go: the generic Go below AVX2, the YMM
// assembly at AVX2, the ZMM assembly at AVX512; every level gives the
// same bits.

func momentumStep[T Float](w, g, v []T, lr, mu T) {
	if level < AVX2 {
		momentumStepGeneric(w, g, v, lr, mu)
		return
	}
	trace(kMomentumStep)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			momentumStepF32AVX512(p32(w), p32(g), p32(v), len(w), float32(lr), float32(mu))
		} else {
			momentumStepF64AVX512(p64(w), p64(g), p64(v), len(w), float64(lr), float64(mu))
		}
		return
	}
	if dtype.Is32[T]() {
		momentumStepF32(p32(w), p32(g), p32(v), len(w), float32(lr), float32(mu))
	} else {
		momentumStepF64(p64(w), p64(g), p64(v), len(w), float64(lr), float64(mu))
	}
}

func rmspropStep[T Float](w, g, c []T, lr, d, k, eps T) {
	if level < AVX2 {
		rmspropStepGeneric(w, g, c, lr, d, k, eps)
		return
	}
	trace(kRMSPropStep)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			rmspropStepF32AVX512(p32(w), p32(g), p32(c), len(w), float32(lr), float32(d), float32(k), float32(eps))
		} else {
			rmspropStepF64AVX512(p64(w), p64(g), p64(c), len(w), float64(lr), float64(d), float64(k), float64(eps))
		}
		return
	}
	if dtype.Is32[T]() {
		rmspropStepF32(p32(w), p32(g), p32(c), len(w), float32(lr), float32(d), float32(k), float32(eps))
	} else {
		rmspropStepF64(p64(w), p64(g), p64(c), len(w), float64(lr), float64(d), float64(k), float64(eps))
	}
}

func adamStep[T Float](w, g, m, v []T, lr, b1, k1, b2, k2, c1, c2, eps T) {
	if level < AVX2 {
		adamStepGeneric(w, g, m, v, lr, b1, k1, b2, k2, c1, c2, eps)
		return
	}
	trace(kAdamStep)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			adamStepF32AVX512(p32(w), p32(g), p32(m), p32(v), len(w),
				float32(lr), float32(b1), float32(k1), float32(b2), float32(k2), float32(c1), float32(c2), float32(eps))
		} else {
			adamStepF64AVX512(p64(w), p64(g), p64(m), p64(v), len(w),
				float64(lr), float64(b1), float64(k1), float64(b2), float64(k2), float64(c1), float64(c2), float64(eps))
		}
		return
	}
	if dtype.Is32[T]() {
		adamStepF32(p32(w), p32(g), p32(m), p32(v), len(w),
			float32(lr), float32(b1), float32(k1), float32(b2), float32(k2), float32(c1), float32(c2), float32(eps))
	} else {
		adamStepF64(p64(w), p64(g), p64(m), p64(v), len(w),
			float64(lr), float64(b1), float64(k1), float64(b2), float64(k2), float64(c1), float64(c2), float64(eps))
	}
}
