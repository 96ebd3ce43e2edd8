package kernels

// This file holds the exported kernel API with plain Go bodies. The kernels
// work splits it into per-family files (dot.go, dot_amd64.go, ...) with
// SIMD dispatch; the signatures and the semantics stated here stay.

import (
	"fmt"
	"math"
)

func checkLen(kernel, an string, a int, bn string, b int) {
	if a != b {
		panic(fmt.Sprintf("kernels.%s: len(%s)=%d != len(%s)=%d", kernel, an, a, bn, b))
	}
}

// checkMat panics unless data holds a rows×cols matrix with the given stride.
func checkMat(kernel, name string, n, rows, cols, stride int) {
	if rows < 0 || cols < 0 || stride < cols || (rows > 0 && n < (rows-1)*stride+cols) {
		panic(fmt.Sprintf("kernels.%s: %s: len=%d does not hold rows=%d cols=%d stride=%d", kernel, name, n, rows, cols, stride))
	}
}

// Dot returns Σ x[i]·y[i]. It panics if len(x) != len(y).
func Dot[T Float](x, y []T) T {
	checkLen("Dot", "x", len(x), "y", len(y))
	var s T
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// Axpy computes y[i] += a·x[i]. It panics if len(x) != len(y).
func Axpy[T Float](a T, x, y []T) {
	checkLen("Axpy", "x", len(x), "y", len(y))
	for i := range x {
		y[i] += a * x[i]
	}
}

// Scale computes x[i] *= a.
func Scale[T Float](a T, x []T) {
	for i := range x {
		x[i] *= a
	}
}

// AddTo computes dst[i] += x[i]. It panics if len(dst) != len(x).
func AddTo[T Float](dst, x []T) {
	checkLen("AddTo", "dst", len(dst), "x", len(x))
	for i := range x {
		dst[i] += x[i]
	}
}

// SubFrom computes dst[i] -= x[i]. It panics if len(dst) != len(x).
func SubFrom[T Float](dst, x []T) {
	checkLen("SubFrom", "dst", len(dst), "x", len(x))
	for i := range x {
		dst[i] -= x[i]
	}
}

// MulTo computes dst[i] *= x[i]. It panics if len(dst) != len(x).
func MulTo[T Float](dst, x []T) {
	checkLen("MulTo", "dst", len(dst), "x", len(x))
	for i := range x {
		dst[i] *= x[i]
	}
}

// Sum returns Σ x[i] (0 for an empty slice).
func Sum[T Float](x []T) T {
	var s T
	for _, v := range x {
		s += v
	}
	return s
}

// SumSq returns Σ x[i]² (0 for an empty slice).
func SumSq[T Float](x []T) T {
	var s T
	for _, v := range x {
		s += v * v
	}
	return s
}

// Max returns the largest element of x; NaN if any element is NaN; -Inf for
// an empty slice.
func Max[T Float](x []T) T {
	m := T(math.Inf(-1))
	for _, v := range x {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// ArgMax returns the index of the first maximal element of x, or of the
// first NaN if x holds one; -1 for an empty slice.
func ArgMax[T Float](x []T) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v != v {
			return i
		}
		if v > x[best] {
			best = i
		}
	}
	return best
}

// AddBias adds b to every row of the rows×cols matrix m (row i at
// m[i*stride:]). It panics if len(b) != cols or m is too short.
func AddBias[T Float](m []T, rows, cols, stride int, b []T) {
	checkMat("AddBias", "m", len(m), rows, cols, stride)
	checkLen("AddBias", "b", len(b), "cols", cols)
	for i := 0; i < rows; i++ {
		r := m[i*stride : i*stride+cols]
		for j := range r {
			r[j] += b[j]
		}
	}
}

// ColSum overwrites dst with the column sums of the rows×cols matrix m:
// dst[j] = Σ_i m[i*stride+j], summed in row order.
func ColSum[T Float](dst, m []T, rows, cols, stride int) {
	checkMat("ColSum", "m", len(m), rows, cols, stride)
	checkLen("ColSum", "dst", len(dst), "cols", cols)
	clear(dst)
	for i := 0; i < rows; i++ {
		r := m[i*stride : i*stride+cols]
		for j := range r {
			dst[j] += r[j]
		}
	}
}

// RowMax overwrites dst[i] with Max of row i of the rows×cols matrix m.
func RowMax[T Float](dst, m []T, rows, cols, stride int) {
	checkMat("RowMax", "m", len(m), rows, cols, stride)
	checkLen("RowMax", "dst", len(dst), "rows", rows)
	for i := 0; i < rows; i++ {
		dst[i] = Max(m[i*stride : i*stride+cols])
	}
}

// ReLU computes dst[i] = max(0, x[i]) (NaN stays NaN). dst may be x.
func ReLU[T Float](dst, x []T) {
	checkLen("ReLU", "dst", len(dst), "x", len(x))
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// BiasReLU computes m[i,j] = max(0, m[i,j] + b[j]) in place for the
// rows×cols matrix m: the fused bias and ReLU of a hidden layer.
func BiasReLU[T Float](m []T, rows, cols, stride int, b []T) {
	checkMat("BiasReLU", "m", len(m), rows, cols, stride)
	checkLen("BiasReLU", "b", len(b), "cols", cols)
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
// dh[h <= 0] = 0); h is the ReLU's forward output.
func ReLUBackward[T Float](dh, h []T) {
	checkLen("ReLUBackward", "dh", len(dh), "h", len(h))
	for i, v := range h {
		if v <= 0 {
			dh[i] = 0
		}
	}
}

// Exp computes dst[i] = e^x[i]. dst may be x.
func Exp[T Float](dst, x []T) {
	checkLen("Exp", "dst", len(dst), "x", len(x))
	for i, v := range x {
		dst[i] = T(math.Exp(float64(v)))
	}
}

// SoftmaxRows writes the row-wise softmax of the rows×cols matrix s into p
// (same shape and stride; p may be s): p[i,j] = e^(s[i,j]-m_i) / Σ_k e^(s[i,k]-m_i)
// with m_i the row max.
func SoftmaxRows[T Float](p, s []T, rows, cols, stride int) {
	checkMat("SoftmaxRows", "s", len(s), rows, cols, stride)
	checkMat("SoftmaxRows", "p", len(p), rows, cols, stride)
	for i := 0; i < rows; i++ {
		si := s[i*stride : i*stride+cols]
		pi := p[i*stride : i*stride+cols]
		m := Max(si)
		var z T
		for j, v := range si {
			e := T(math.Exp(float64(v - m)))
			pi[j] = e
			z += e
		}
		for j := range pi {
			pi[j] /= z
		}
	}
}

// SoftmaxCERows is the fused softmax cross-entropy of the rows×cols score
// matrix s with labels y (len(y) == rows, 0 <= y[i] < cols). It returns
// Σ_i −log p[i,y[i]] (not divided by rows) and writes
// ds[i,j] = (p[i,j] − [j == y[i]])·scale (ds has the same shape and stride
// and may be s).
func SoftmaxCERows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	checkMat("SoftmaxCERows", "s", len(s), rows, cols, stride)
	checkMat("SoftmaxCERows", "ds", len(ds), rows, cols, stride)
	checkLen("SoftmaxCERows", "y", len(y), "rows", rows)
	var loss float64
	for i := 0; i < rows; i++ {
		if y[i] < 0 || y[i] >= cols {
			panic(fmt.Sprintf("kernels.SoftmaxCERows: y[%d]=%d outside [0,%d)", i, y[i], cols))
		}
		si := s[i*stride : i*stride+cols]
		di := ds[i*stride : i*stride+cols]
		m := Max(si)
		sy := si[y[i]]
		var z T
		for j, v := range si {
			e := T(math.Exp(float64(v - m)))
			di[j] = e
			z += e
		}
		// −log p_y = log z − (s_y − m)
		loss += math.Log(float64(z)) - float64(sy-m)
		inv := 1 / z
		for j := range di {
			di[j] = di[j] * inv * scale
		}
		di[y[i]] -= scale
	}
	return loss
}

// HingeRows is the multiclass SVM (hinge, margin 1) of the rows×cols score
// matrix s with labels y. It returns Σ_i Σ_{j≠y_i} max(0, s[i,j] − s[i,y_i] + 1)
// (not divided by rows) and writes ds[i,j] = scale·[margin_j > 0] for j ≠ y_i
// and ds[i,y_i] = −scale·(number of positive margins). ds may be s.
func HingeRows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	checkMat("HingeRows", "s", len(s), rows, cols, stride)
	checkMat("HingeRows", "ds", len(ds), rows, cols, stride)
	checkLen("HingeRows", "y", len(y), "rows", rows)
	var loss float64
	for i := 0; i < rows; i++ {
		if y[i] < 0 || y[i] >= cols {
			panic(fmt.Sprintf("kernels.HingeRows: y[%d]=%d outside [0,%d)", i, y[i], cols))
		}
		si := s[i*stride : i*stride+cols]
		di := ds[i*stride : i*stride+cols]
		sy := si[y[i]]
		var n T
		for j, v := range si {
			if j == y[i] {
				continue
			}
			if mg := v - sy + 1; mg > 0 {
				loss += float64(mg)
				di[j] = scale
				n++
			} else {
				di[j] = 0
			}
		}
		di[y[i]] = -n * scale
	}
	return loss
}

// U8ToFloat computes dst[i] = T(src[i]) − mean[i]: one image row of uint8
// pixels to float with the mean image subtracted. It panics unless the three
// lengths agree.
func U8ToFloat[T Float](dst []T, src []uint8, mean []T) {
	checkLen("U8ToFloat", "dst", len(dst), "src", len(src))
	checkLen("U8ToFloat", "mean", len(mean), "src", len(src))
	for i, v := range src {
		dst[i] = T(v) - mean[i]
	}
}
