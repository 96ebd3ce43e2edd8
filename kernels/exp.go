package kernels

import (
	"fmt"
	"math"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels/internal/canon"
	"github.com/nnkern/nnkern/kernels/internal/expc"
)

//go:generate sh -c "cd _gen && go run . -family exp -out ../exp_amd64.s -stubs ../exp_stub_amd64.go -pkg kernels"

// Exp computes dst[i] = e^x[i]. dst may be x. It panics if
// len(dst) != len(x).
//
// Exp is a range-reduced polynomial, not math.Exp (the algorithm and its
// constants are in package kernels/internal/expc; the generic Go version and
// the assembly compute the same bits):
//   - float64: at most 2 ulp from math.Exp for Lo64 = −708.39 <= x <= 0
//     (measured max: see TestExpAccuracy), exactly 1 at 0;
//   - float32: at most 2 ulp from the correctly rounded e^x for
//     −87.33 <= x <= 0, exactly 1 at 0;
//   - x below that threshold (−708.39, −87.33) gives +0: the few results that
//     would be subnormal are flushed, so later arithmetic never meets a
//     subnormal; x above ln(MaxFloat) gives +Inf; NaN gives NaN.
func Exp[T Float](dst, x []T) {
	checkLen("Exp", "dst", len(dst), "x", len(x))
	exp(dst, x)
}

func expGeneric[T Float](dst, x []T) {
	dst = dst[:len(x)]
	if dtype.Is32[T]() {
		for i, v := range x {
			dst[i] = T(exp32(float32(v)))
		}
		return
	}
	for i, v := range x {
		dst[i] = T(exp64(float64(v)))
	}
}

func expScalar[T Float](x T) T {
	if dtype.Is32[T]() {
		return T(exp32(float32(x)))
	}
	return T(exp64(float64(x)))
}

// exp64 is the float64 exp of package expc, in Go.
func exp64(x float64) float64 {
	xc := x
	if xc < expc.Lo64 {
		xc = expc.Lo64
	}
	if xc > expc.Hi64 {
		xc = expc.Hi64
	}
	t := math.FMA(xc, expc.Log2e64, expc.Magic64)
	nf := t - expc.Magic64
	r := math.FMA(-nf, expc.Ln2Hi64, xc)
	r = math.FMA(-nf, expc.Ln2Lo64, r)
	r2 := r * r
	c := expc.C64
	q := c[len(c)-1]
	for k := len(c) - 2; k >= 0; k-- {
		q = math.FMA(q, r, c[k])
	}
	p := 1 + math.FMA(r2, q, r)
	n := int32(math.Float64bits(t))
	h := n >> 1
	s1 := math.Float64frombits(uint64(uint32(h+expc.Bias64)&0xfff) << expc.Shift64)
	s2 := math.Float64frombits(uint64(uint32(n-h+expc.Bias64)&0xfff) << expc.Shift64)
	y := p * s1 * s2
	if x < expc.Lo64 {
		y = 0
	}
	if x > expc.Hi64 {
		y = math.Inf(1)
	}
	return y
}

// exp32 is the float32 exp of package expc, in Go.
func exp32(x float32) float32 {
	xc := x
	if xc < expc.Lo32 {
		xc = expc.Lo32
	}
	if xc > expc.Hi32 {
		xc = expc.Hi32
	}
	t := fma32(xc, float32(expc.Log2e32), float32(expc.Magic32))
	nf := t - float32(expc.Magic32)
	r := fma32(-nf, float32(expc.Ln2Hi32), xc)
	r = fma32(-nf, float32(expc.Ln2Lo32), r)
	r2 := r * r
	c := &c32
	q := c[len(c)-1]
	for k := len(c) - 2; k >= 0; k-- {
		q = fma32(q, r, c[k])
	}
	p := 1 + fma32(r2, q, r)
	n := int32(math.Float32bits(t) - expc.MagicBits)
	h := n >> 1
	s1 := math.Float32frombits(uint32(h+expc.Bias32) << expc.Shift32)
	s2 := math.Float32frombits(uint32(n-h+expc.Bias32) << expc.Shift32)
	y := p * s1 * s2
	if x < expc.Lo32 {
		y = 0
	}
	if x > expc.Hi32 {
		y = float32(math.Inf(1))
	}
	return y
}

var c32 = func() (c [6]float32) {
	for i, v := range expc.C32 {
		c[i] = float32(v)
	}
	return c
}()

// SoftmaxRows writes the row-wise softmax of the rows×cols matrix s into p
// (same shape and stride; p may be s): p[i,j] = e^(s[i,j]-m_i) / z_i with
// m_i the row max, e^ the Exp kernel's and z_i = Σ_k e^(s[i,k]-m_i) summed
// in the canonical order (as Sum). It panics if s or p is too short.
func SoftmaxRows[T Float](p, s []T, rows, cols, stride int) {
	checkMat("SoftmaxRows", "s", len(s), rows, cols, stride)
	checkMat("SoftmaxRows", "p", len(p), rows, cols, stride)
	if rows == 0 || cols == 0 {
		return
	}
	softmaxRows(p, s, rows, cols, stride)
}

func softmaxRowsGeneric[T Float](p, s []T, rows, cols, stride int) {
	for i := 0; i < rows; i++ {
		si := s[i*stride : i*stride+cols]
		pi := p[i*stride : i*stride+cols]
		m := maxGeneric(si)
		for j, v := range si {
			pi[j] = expScalar(v - m)
		}
		z := canonSum(pi)
		for j := range pi {
			pi[j] /= z
		}
	}
}

// SoftmaxCERows is the fused softmax cross-entropy of the rows×cols score
// matrix s with labels y (len(y) == rows, 0 <= y[i] < cols). It returns
// Σ_i −log p[i,y[i]] (not divided by rows) and writes
// ds[i,j] = (p[i,j] − [j == y[i]])·scale (ds has the same shape and stride
// and may be s). It panics if a matrix is too short, len(y) != rows or a
// label is out of range.
//
// Per row, with m the row max, e_j = e^(s_j − m) (the Exp kernel) and z =
// Σ_j e_j in the canonical order (as Sum): ds_j = (e_j·(1/z))·scale, minus
// scale at the label. The loss is computed in float64 over blocks of up to
// 64 rows as log(Π z) − Σ (s_y − m), the product rescaled by 2^−500
// whenever it exceeds 2^500 (each z is in [1, cols]), with Log (the same
// logarithm on every platform): one logarithm per block instead of one per
// row.
func SoftmaxCERows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	checkLossRows("SoftmaxCERows", len(ds), len(s), rows, cols, stride, y)
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
		softmaxCERows(ds[off:], s[off:], k, cols, stride, scale, mz[:2*k])
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
		loss += Log(prod) + float64(float64(exp2)*math.Ln2) - shifts
	}
	return loss
}

// ceChunk is the number of rows SoftmaxCERows hands to the row kernel at a
// time (the row maxima and sums come back in a stack buffer).
const ceChunk = 64

// checkLossRows panics unless the score matrix s and the gradient ds (their
// lengths) hold rows×cols matrices with the given stride and y holds one
// label in [0, cols) per row.
func checkLossRows(kernel string, nds, ns, rows, cols, stride int, y []int) {
	checkMat(kernel, "s", ns, rows, cols, stride)
	checkMat(kernel, "ds", nds, rows, cols, stride)
	checkDim(kernel, "y", len(y), "rows", rows)
	for i, c := range y {
		if c < 0 || c >= cols {
			panic(fmt.Sprintf("kernels.%s: y[%d]=%d outside [0,%d)", kernel, i, c, cols))
		}
	}
}

// softmaxCERowsGeneric is the row kernel of SoftmaxCERows for rows <= 64
// rows: ds = e·(1/z)·scale (the label's −scale is the caller's), and
// mz[2i], mz[2i+1] = m, z of row i.
func softmaxCERowsGeneric[T Float](ds, s []T, rows, cols, stride int, scale T, mz []T) {
	for i := 0; i < rows; i++ {
		si := s[i*stride : i*stride+cols]
		di := ds[i*stride : i*stride+cols]
		m := maxGeneric(si)
		for j, v := range si {
			di[j] = expScalar(v - m)
		}
		z := canonSum(di)
		inv := 1 / z
		for j := range di {
			di[j] = di[j] * inv * scale
		}
		mz[2*i], mz[2*i+1] = m, z
	}
}

// HingeRows is the multiclass SVM (hinge, margin 1) of the rows×cols score
// matrix s with labels y. It returns Σ_i Σ_{j≠y_i} max(0, (s[i,j] − s[i,y_i]) + 1)
// (not divided by rows; a NaN margin counts as positive, so a NaN score
// makes the loss NaN, as numpy's np.maximum(0, margins).sum() does, and a
// diverging model is seen) and writes ds[i,j] = scale·[margin_j > 0] for
// j ≠ y_i and ds[i,y_i] = −scale·(number of positive margins). ds may be
// s. The margins are computed in T; each row's positive margins are summed
// in float64 in the canonical order of float64 accumulators (margin j into
// partial j mod 32, halving tree), and the rows' sums are added in row
// order. It panics if a matrix is too short, len(y) != rows or a label is
// out of range.
func HingeRows[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	checkLossRows("HingeRows", len(ds), len(s), rows, cols, stride, y)
	return hingeRows(ds, s, rows, cols, stride, y, scale)
}

func hingeRowsGeneric[T Float](ds, s []T, rows, cols, stride int, y []int, scale T) float64 {
	var (
		loss float64
		p    [canon.Partials64]float64
	)
	for i := 0; i < rows; i++ {
		si := s[i*stride : i*stride+cols]
		di := ds[i*stride : i*stride+cols]
		yi := y[i]
		sy := si[yi]
		clear(p[:])
		var n T
		for j, v := range si {
			if j == yi {
				continue
			}
			if mg := v - sy + 1; !(mg <= 0) { // a NaN margin counts (and makes the loss NaN)
				p[j%len(p)] += float64(mg)
				di[j] = scale
				n++
			} else {
				di[j] = 0
			}
		}
		di[yi] = -n * scale
		loss += treeSum(p[:], min(cols, len(p)))
	}
	return loss
}
