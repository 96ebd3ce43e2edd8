//go:build !amd64 || !gc || purego

package kernels

func exp[T Float](dst, x []T) { expGeneric(dst, x) }

func softmaxRows[T Float](p, s []T, rows, cols, stride int) {
	softmaxRowsGeneric(p, s, rows, cols, stride)
}

func softmaxCERows[T Float](ds, s []T, rows, cols, stride int, scale T, mz []T) {
	softmaxCERowsGeneric(ds, s, rows, cols, stride, scale, mz)
}

func hingeRows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	return hingeRowsGeneric(ds, s, rows, cols, stride, y, scale)
}
