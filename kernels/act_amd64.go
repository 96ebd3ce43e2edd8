//go:build amd64 && gc && !purego

package kernels

import "github.com/nnkern/nnkern/internal/dtype"

func addBias[T Float](m []T, rows, cols, stride int, b []T) {
	if level < AVX2 {
		addBiasGeneric(m, rows, cols, stride, b)
		return
	}
	trace(kAddBias)
	for i := 0; i < rows; i++ {
		addToAsm(m[i*stride:i*stride+cols], b)
	}
}

func colSum[T Float](dst, m []T, rows, cols, stride int) {
	if level < AVX2 {
		colSumGeneric(dst, m, rows, cols, stride)
		return
	}
	trace(kColSum)
	clear(dst)
	for i := 0; i < rows; i++ {
		addToAsm(dst, m[i*stride:i*stride+cols])
	}
}

func rowMax[T Float](dst, m []T, rows, cols, stride int) {
	if level < AVX2 {
		rowMaxGeneric(dst, m, rows, cols, stride)
		return
	}
	trace(kRowMax)
	for i := 0; i < rows; i++ {
		dst[i] = maxAsmExact(m[i*stride : i*stride+cols])
	}
}

func relu[T Float](dst, x []T) {
	if level < AVX2 {
		reluGeneric(dst, x)
		return
	}
	trace(kReLU)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			reluF32AVX512(p32(dst), p32(x), len(x))
		} else {
			reluF64AVX512(p64(dst), p64(x), len(x))
		}
		return
	}
	if dtype.Is32[T]() {
		reluF32(p32(dst), p32(x), len(x))
	} else {
		reluF64(p64(dst), p64(x), len(x))
	}
}

func biasReLU[T Float](m []T, rows, cols, stride int, b []T) {
	if level < AVX2 {
		biasReLUGeneric(m, rows, cols, stride, b)
		return
	}
	trace(kBiasReLU)
	for i := 0; i < rows; i++ {
		r := m[i*stride : i*stride+cols]
		if level >= AVX512 {
			if dtype.Is32[T]() {
				addReLUF32AVX512(p32(r), p32(b), cols)
			} else {
				addReLUF64AVX512(p64(r), p64(b), cols)
			}
			continue
		}
		if dtype.Is32[T]() {
			addReLUF32(p32(r), p32(b), cols)
		} else {
			addReLUF64(p64(r), p64(b), cols)
		}
	}
}

func reluBackward[T Float](dh, h []T) {
	if level < AVX2 {
		reluBackwardGeneric(dh, h)
		return
	}
	trace(kReLUBackward)
	if level >= AVX512 {
		if dtype.Is32[T]() {
			reluBackwardF32AVX512(p32(dh), p32(h), len(h))
		} else {
			reluBackwardF64AVX512(p64(dh), p64(h), len(h))
		}
		return
	}
	if dtype.Is32[T]() {
		reluBackwardF32(p32(dh), p32(h), len(h))
	} else {
		reluBackwardF64(p64(dh), p64(h), len(h))
	}
}

// prefetch needs no ISA level: PREFETCHT0 is part of baseline amd64.
func prefetch(b []byte) { prefetchT0(&b[0], len(b)) }

func u8ToFloat[T Float](dst []T, src []uint8, mean []T) {
	if level < AVX2 {
		u8ToFloatGeneric(dst, src, mean)
		return
	}
	trace(kU8ToFloat)
	if len(src) == 0 {
		return
	}
	if level >= AVX512 {
		if dtype.Is32[T]() {
			u8ToF32AVX512(p32(dst), &src[0], p32(mean), len(src))
		} else {
			u8ToF64AVX512(p64(dst), &src[0], p64(mean), len(src))
		}
		return
	}
	if dtype.Is32[T]() {
		u8ToF32(p32(dst), &src[0], p32(mean), len(src))
	} else {
		u8ToF64(p64(dst), &src[0], p64(mean), len(src))
	}
}
