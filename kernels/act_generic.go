//go:build !amd64 || !gc || purego

package kernels

func addBias[T Float](m []T, rows, cols, stride int, b []T) { addBiasGeneric(m, rows, cols, stride, b) }
func colSum[T Float](dst, m []T, rows, cols, stride int)    { colSumGeneric(dst, m, rows, cols, stride) }
func rowMax[T Float](dst, m []T, rows, cols, stride int)    { rowMaxGeneric(dst, m, rows, cols, stride) }
func relu[T Float](dst, x []T)                              { reluGeneric(dst, x) }
func biasReLU[T Float](m []T, rows, cols, stride int, b []T) {
	biasReLUGeneric(m, rows, cols, stride, b)
}
func reluBackward[T Float](dh, h []T)                   { reluBackwardGeneric(dh, h) }
func u8ToFloat[T Float](dst []T, src []uint8, mean []T) { u8ToFloatGeneric(dst, src, mean) }
func prefetch(b []byte)                                 { prefetchGeneric(b) }
