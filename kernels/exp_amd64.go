//go:build amd64 && gc && !purego

package kernels

import "github.com/nnkern/nnkern/internal/dtype"

func exp[T Float](dst, x []T) {
	if level < AVX2 {
		expGeneric(dst, x)
		return
	}
	trace(kExp)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			expF32AVX512(p32(dst), p32(x), len(x))
		} else {
			expF64AVX512(p64(dst), p64(x), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		expF32(p32(dst), p32(x), len(x))
	} else {
		expF64(p64(dst), p64(x), len(x))
	}
}

func softmaxRows[T Float](p, s []T, rows, cols, stride int) {
	if level < AVX2 {
		softmaxRowsGeneric(p, s, rows, cols, stride)
		return
	}
	trace(kSoftmaxRows)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			softmaxRowsF32AVX512(p32(p), p32(s), rows, cols, stride)
		} else {
			softmaxRowsF64AVX512(p64(p), p64(s), rows, cols, stride)
		}
		return
	}
	if dtype.Is32[T]() {
		softmaxRowsF32(p32(p), p32(s), rows, cols, stride)
	} else {
		softmaxRowsF64(p64(p), p64(s), rows, cols, stride)
	}
}

func softmaxCERows[T Float](ds, s []T, rows, cols, stride int, scale T, mz []T) {
	if level < AVX2 {
		softmaxCERowsGeneric(ds, s, rows, cols, stride, scale, mz)
		return
	}
	trace(kSoftmaxCERows)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			softmaxCERowsF32AVX512(p32(ds), p32(s), rows, cols, stride, float32(scale), p32(mz))
		} else {
			softmaxCERowsF64AVX512(p64(ds), p64(s), rows, cols, stride, float64(scale), p64(mz))
		}
		return
	}
	if dtype.Is32[T]() {
		softmaxCERowsF32(p32(ds), p32(s), rows, cols, stride, float32(scale), p32(mz))
	} else {
		softmaxCERowsF64(p64(ds), p64(s), rows, cols, stride, float64(scale), p64(mz))
	}
}

func hingeRows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	if level < AVX2 || cols == 0 {
		return hingeRowsGeneric(ds, s, rows, cols, stride, y, scale)
	}
	trace(kHingeRows)
	var (
		loss float64
		out  [2 * ceChunk]float64
	)
	for i0 := 0; i0 < rows; i0 += ceChunk {
		k := min(ceChunk, rows-i0)
		off := i0 * stride
		if level >= AVX512 {
			if dtype.Is32[T]() {
				hingeRowsF32AVX512(p32(ds[off:]), p32(s[off:]), k, cols, stride, &y[i0], float32(scale), &out[0])
			} else {
				hingeRowsF64AVX512(p64(ds[off:]), p64(s[off:]), k, cols, stride, &y[i0], float64(scale), &out[0])
			}
		} else if dtype.Is32[T]() {
			hingeRowsF32(p32(ds[off:]), p32(s[off:]), k, cols, stride, &y[i0], float32(scale), &out[0])
		} else {
			hingeRowsF64(p64(ds[off:]), p64(s[off:]), k, cols, stride, &y[i0], float64(scale), &out[0])
		}
		for r := 0; r < k; r++ {
			loss += out[2*r]
			ds[(i0+r)*stride+y[i0+r]] = -T(out[2*r+1]) * scale
		}
	}
	return loss
}
