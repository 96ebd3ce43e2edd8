package kernels

import "sync/atomic"

//go:generate sh -c "cd _gen && go run . -family act -out ../act_amd64.s -stubs ../act_stub_amd64.go -pkg kernels"

// AddBias adds b to every row of the rows×cols matrix m (row i at
// m[i*stride:]). It panics if len(b) != cols or m is too short.
func AddBias[T Float](m []T, rows, cols, stride int, b []T) {
	checkMat("AddBias", "m", len(m), rows, cols, stride)
	checkDim("AddBias", "b", len(b), "cols", cols)
	addBias(m, rows, cols, stride, b)
}

func addBiasGeneric[T Float](m []T, rows, cols, stride int, b []T) {
	for i := 0; i < rows; i++ {
		r := m[i*stride : i*stride+cols]
		for j := range r {
			r[j] += b[j]
		}
	}
}

// ColSum overwrites dst with the column sums of the rows×cols matrix m:
// dst[j] = Σ_i m[i*stride+j], summed in row order (so every ISA gives
// identical bits). It panics if len(dst) != cols or m is too short.
func ColSum[T Float](dst, m []T, rows, cols, stride int) {
	checkMat("ColSum", "m", len(m), rows, cols, stride)
	checkDim("ColSum", "dst", len(dst), "cols", cols)
	colSum(dst, m, rows, cols, stride)
}

func colSumGeneric[T Float](dst, m []T, rows, cols, stride int) {
	clear(dst)
	for i := 0; i < rows; i++ {
		r := m[i*stride : i*stride+cols]
		for j := range r {
			dst[j] += r[j]
		}
	}
}

// RowMax overwrites dst[i] with Max of row i of the rows×cols matrix m. It
// panics if len(dst) != rows or m is too short.
func RowMax[T Float](dst, m []T, rows, cols, stride int) {
	checkMat("RowMax", "m", len(m), rows, cols, stride)
	checkDim("RowMax", "dst", len(dst), "rows", rows)
	rowMax(dst, m, rows, cols, stride)
}

func rowMaxGeneric[T Float](dst, m []T, rows, cols, stride int) {
	for i := 0; i < rows; i++ {
		dst[i] = maxGeneric(m[i*stride : i*stride+cols])
	}
}

// ReLU computes dst[i] = max(0, x[i]) (NaN and −0 stay as they are). dst
// may be x. It panics if len(dst) != len(x).
func ReLU[T Float](dst, x []T) {
	checkLen("ReLU", "dst", len(dst), "x", len(x))
	relu(dst, x)
}

func reluGeneric[T Float](dst, x []T) {
	dst = dst[:len(x)]
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// BiasReLU computes m[i,j] = max(0, m[i,j] + b[j]) in place for the
// rows×cols matrix m: the fused bias and ReLU of a hidden layer. It panics
// if len(b) != cols or m is too short.
func BiasReLU[T Float](m []T, rows, cols, stride int, b []T) {
	checkMat("BiasReLU", "m", len(m), rows, cols, stride)
	checkDim("BiasReLU", "b", len(b), "cols", cols)
	biasReLU(m, rows, cols, stride, b)
}

func biasReLUGeneric[T Float](m []T, rows, cols, stride int, b []T) {
	for i := 0; i < rows; i++ {
		r := m[i*stride : i*stride+cols]
		for j := range r {
			v := r[j] + b[j]
			if v < 0 {
				v = 0
			}
			r[j] = v
		}
	}
}

// ReLUBackward zeroes dh[i] wherever h[i] <= 0 (the reference's
// dh[h <= 0] = 0; a NaN h keeps dh); h is the ReLU's forward output. It
// panics if len(dh) != len(h).
func ReLUBackward[T Float](dh, h []T) {
	checkLen("ReLUBackward", "dh", len(dh), "h", len(h))
	reluBackward(dh, h)
}

func reluBackwardGeneric[T Float](dh, h []T) {
	dh = dh[:len(h)]
	for i, v := range h {
		if v <= 0 {
			dh[i] = 0
		}
	}
}

// Prefetch asks the CPU to bring the cache lines of b into the cache
// (PREFETCHT0 per 64-byte line on amd64; elsewhere, and with the purego
// tag, one byte per line is loaded). It has no effect on any result: it is
// a hint for a caller that will read b soon, e.g. a random row of a large
// array whose miss would otherwise stall the loop converting the previous
// row. Unlike a plain load, a prefetch instruction does not hold up the
// instructions after it while the line is fetched.
func Prefetch(b []byte) {
	if len(b) > 0 {
		prefetch(b)
	}
}

var prefetchSink atomic.Uint32 // keeps the loads of prefetchGeneric (atomic: callers run concurrently)

func prefetchGeneric(b []byte) {
	var acc uint8
	for j := 0; j < len(b); j += 64 {
		acc += b[j]
	}
	prefetchSink.Store(uint32(acc))
}

// U8ToFloat computes dst[i] = T(src[i]) − mean[i]: one image row of uint8
// pixels to float with the mean image subtracted. It panics unless the three
// lengths agree.
func U8ToFloat[T Float](dst []T, src []uint8, mean []T) {
	checkLen("U8ToFloat", "dst", len(dst), "src", len(src))
	checkLen("U8ToFloat", "mean", len(mean), "src", len(src))
	u8ToFloat(dst, src, mean)
}

func u8ToFloatGeneric[T Float](dst []T, src []uint8, mean []T) {
	dst = dst[:len(src)]
	mean = mean[:len(src)]
	for i, v := range src {
		dst[i] = T(v) - mean[i]
	}
}
