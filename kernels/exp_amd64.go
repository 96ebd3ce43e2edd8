//go:build amd64 && gc && !purego

package kernels

import "math"

func exp[T Float](dst, x []T) {
	if !useAVX2() {
		expGeneric(dst, x)
		return
	}
	trace(kExp)
	if isF32[T]() {
		expF32(p32(dst), p32(x), len(x))
	} else {
		expF64(p64(dst), p64(x), len(x))
	}
}

func softmaxRows[T Float](p, s []T, rows, cols, stride int) {
	if !useAVX2() {
		softmaxRowsGeneric(p, s, rows, cols, stride)
		return
	}
	trace(kSoftmaxRows)
	if isF32[T]() {
		softmaxRowsF32(p32(p), p32(s), rows, cols, stride)
	} else {
		softmaxRowsF64(p64(p), p64(s), rows, cols, stride)
	}
}

// ceChunk is the number of rows SoftmaxCERows hands to the assembly at a
// time (the row maxima and sums come back in a stack buffer).
const ceChunk = 64

func softmaxCERows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	if !useAVX2() {
		return softmaxCERowsGeneric(ds, s, rows, cols, stride, y, scale)
	}
	trace(kSoftmaxCERows)
	var (
		loss float64
		sy   [ceChunk]T
		mz   [2 * ceChunk]T
	)
	for i0 := 0; i0 < rows; i0 += ceChunk {
		k := min(ceChunk, rows-i0)
		for r := 0; r < k; r++ {
			sy[r] = s[(i0+r)*stride+y[i0+r]]
		}
		off := i0 * stride
		if isF32[T]() {
			softmaxCERowsF32(p32(ds[off:]), p32(s[off:]), k, cols, stride, float32(scale), p32(mz[:]))
		} else {
			softmaxCERowsF64(p64(ds[off:]), p64(s[off:]), k, cols, stride, float64(scale), p64(mz[:]))
		}
		// Σ_r log z_r = log Π_r z_r: one log per chunk instead of one per
		// row. 1 <= z_r <= cols (the max contributes e^0 = 1), so the
		// product only grows; it is rescaled by 2^-500 now and then.
		prod, exp2, shifts := 1.0, 0, 0.0
		for r := 0; r < k; r++ {
			m, z := mz[2*r], mz[2*r+1]
			prod *= float64(z)
			if prod > 0x1p500 {
				prod *= 0x1p-500
				exp2 += 500
			}
			shifts += float64(sy[r] - m)
			ds[(i0+r)*stride+y[i0+r]] -= scale
		}
		loss += math.Log(prod) + float64(exp2)*math.Ln2 - shifts
	}
	return loss
}

func hingeRows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	if !useAVX2() || cols == 0 {
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
		if isF32[T]() {
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
