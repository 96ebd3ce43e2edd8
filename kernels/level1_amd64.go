//go:build amd64 && gc && !purego

package kernels

import "github.com/nnkern/nnkern/internal/dtype"

// Dispatch: below AVX2 the generic Go runs; at AVX2 the YMM assembly; at
// AVX512 the ZMM assembly (calls inside `if level >= AVX512` blocks, which
// TestAVX512Entries checks reach only AVX-512 code). Every level gives the
// same bits.

func dot[T Float](x, y []T) T {
	if level < AVX2 {
		return dotGeneric(x, y)
	}
	trace(kDot)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			return T(dotF32AVX512(p32(x), p32(y), len(x)))
		}
		return T(dotF64AVX512(p64(x), p64(y), len(x)))
	}
	if dtype.Is32[T]() {
		return T(dotF32(p32(x), p32(y), len(x)))
	}
	return T(dotF64(p64(x), p64(y), len(x)))
}

func axpy[T Float](a T, x, y []T) {
	if level < AVX2 {
		axpyGeneric(a, x, y)
		return
	}
	trace(kAxpy)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			axpyF32AVX512(float32(a), p32(x), p32(y), len(x))
		} else {
			axpyF64AVX512(float64(a), p64(x), p64(y), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		axpyF32(float32(a), p32(x), p32(y), len(x))
	} else {
		axpyF64(float64(a), p64(x), p64(y), len(x))
	}
}

func scale[T Float](a T, x []T) {
	if level < AVX2 {
		scaleGeneric(a, x)
		return
	}
	trace(kScale)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			scaleF32AVX512(float32(a), p32(x), len(x))
		} else {
			scaleF64AVX512(float64(a), p64(x), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		scaleF32(float32(a), p32(x), len(x))
	} else {
		scaleF64(float64(a), p64(x), len(x))
	}
}

func addTo[T Float](dst, x []T) {
	if level < AVX2 {
		addToGeneric(dst, x)
		return
	}
	trace(kAddTo)
	addToAsm(dst, x)
}

// addToAsm is AddTo's assembly (level >= AVX2), also used by AddBias and
// ColSum.
func addToAsm[T Float](dst, x []T) {
	if level >= AVX512 {
		if dtype.Is32[T]() {
			addToF32AVX512(p32(dst), p32(x), len(x))
		} else {
			addToF64AVX512(p64(dst), p64(x), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		addToF32(p32(dst), p32(x), len(x))
	} else {
		addToF64(p64(dst), p64(x), len(x))
	}
}

func subFrom[T Float](dst, x []T) {
	if level < AVX2 {
		subFromGeneric(dst, x)
		return
	}
	trace(kSubFrom)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			subFromF32AVX512(p32(dst), p32(x), len(x))
		} else {
			subFromF64AVX512(p64(dst), p64(x), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		subFromF32(p32(dst), p32(x), len(x))
	} else {
		subFromF64(p64(dst), p64(x), len(x))
	}
}

func mulTo[T Float](dst, x []T) {
	if level < AVX2 {
		mulToGeneric(dst, x)
		return
	}
	trace(kMulTo)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			mulToF32AVX512(p32(dst), p32(x), len(x))
		} else {
			mulToF64AVX512(p64(dst), p64(x), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		mulToF32(p32(dst), p32(x), len(x))
	} else {
		mulToF64(p64(dst), p64(x), len(x))
	}
}

func sum[T Float](x []T) T {
	if level < AVX2 {
		return sumGeneric(x)
	}
	trace(kSum)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			return T(sumF32AVX512(p32(x), len(x)))
		}
		return T(sumF64AVX512(p64(x), len(x)))
	}
	if dtype.Is32[T]() {
		return T(sumF32(p32(x), len(x)))
	}
	return T(sumF64(p64(x), len(x)))
}

func sumSq[T Float](x []T) T {
	if level < AVX2 {
		return sumSqGeneric(x)
	}
	trace(kSumSq)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			return T(sumsqF32AVX512(p32(x), len(x)))
		}
		return T(sumsqF64AVX512(p64(x), len(x)))
	}
	if dtype.Is32[T]() {
		return T(sumsqF32(p32(x), len(x)))
	}
	return T(sumsqF64(p64(x), len(x)))
}

func sumSq64[T Float](x []T) float64 {
	if level < AVX2 {
		return sumSq64Generic(x)
	}
	trace(kSumSq64)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			return sumsq64F32AVX512(p32(x), len(x))
		}
		return sumsq64F64AVX512(p64(x), len(x))
	}
	if dtype.Is32[T]() {
		return sumsq64F32(p32(x), len(x))
	}
	return sumsq64F64(p64(x), len(x))
}

// maxAsm returns the max of the non-NaN elements (-Inf if none) and whether
// x holds a NaN (level >= AVX2).
func maxAsm[T Float](x []T) (T, bool) {
	if level >= AVX512 {
		if dtype.Is32[T]() {
			m, nan := maxF32AVX512(p32(x), len(x))
			return T(m), nan
		}
		m, nan := maxF64AVX512(p64(x), len(x))
		return T(m), nan
	}
	if dtype.Is32[T]() {
		m, nan := maxF32(p32(x), len(x))
		return T(m), nan
	}
	m, nan := maxF64(p64(x), len(x))
	return T(m), nan
}

func max_[T Float](x []T) T {
	if level < AVX2 {
		return maxGeneric(x)
	}
	trace(kMax)
	return maxAsmExact(x)
}

// maxAsmExact is Max through the assembly, falling back to the generic loop
// for the rare cases where the lane order matters (a NaN, whose first
// occurrence must be returned, or a zero maximum, whose sign must be the
// first zero's).
func maxAsmExact[T Float](x []T) T {
	m, nan := maxAsm(x)
	if nan || m == 0 {
		return maxGeneric(x)
	}
	return m
}

func argMax[T Float](x []T) int {
	if level < AVX2 || len(x) == 0 {
		return argMaxGeneric(x)
	}
	trace(kArgMax)
	m, nan := maxAsm(x)
	if nan {
		return firstNaN(x)
	}
	if level >= AVX512 {
		if dtype.Is32[T]() {
			return indexEqF32AVX512(p32(x), len(x), float32(m))
		}
		return indexEqF64AVX512(p64(x), len(x), float64(m))
	}
	if dtype.Is32[T]() {
		return indexEqF32(p32(x), len(x), float32(m))
	}
	return indexEqF64(p64(x), len(x), float64(m))
}
