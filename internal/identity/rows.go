package identity

import (
	"fmt"

	"github.com/nnkern/nnkern/internal/dtype"
	"github.com/nnkern/nnkern/kernels"
)

// rcase is a rows×cols matrix with a row stride, starting off elements into
// its guarded buffer.
type rcase struct{ rows, cols, stride, off, mode int }

func (c rcase) String() string {
	return fmt.Sprintf("%dx%d/stride=%d/off=%d%s", c.rows, c.cols, c.stride, c.off, modeNames[c.mode])
}

// size is the length of the matrix's data.
func (c rcase) size() int {
	if c.rows == 0 {
		return 0
	}
	return (c.rows-1)*c.stride + c.cols
}

// rowCases: every width 1..70 (vector tails and the partial-sum tails of
// row reductions) and 100, 257 at 1, 3 and 7 rows with strides equal to
// and larger than cols; each width again with specials; and tall matrices
// (SoftmaxCERows combines up to 64 rows' sums) of typical class counts.
func rowCases() []rcase {
	var cs []rcase
	var widths []int
	for c := 1; c <= 70; c++ {
		widths = append(widths, c)
	}
	widths = append(widths, 100, 257)
	pads := []int{0, 1, 5, 17}
	for _, cols := range widths {
		for ri, rows := range []int{1, 3, 7} {
			cs = append(cs, rcase{rows, cols, cols + pads[(cols+ri)%4], (3*cols + rows) % 8, modeNormal})
		}
		cs = append(cs, rcase{3, cols, cols + 1, cols % 8, modeFinite}, rcase{2, cols, cols + pads[cols%4], (cols + 5) % 8, modeSpecial})
	}
	for i, rows := range []int{0, 63, 64, 65, 129, 200} {
		for j, cols := range []int{1, 3, 10, 16, 17} {
			cs = append(cs, rcase{rows, cols, cols + 3*((i+j)%2), (i + j) % 8, modeNormal})
		}
	}
	return cs
}

// matrix returns a guarded rows×cols matrix (the gaps between rows hold
// random values too: a kernel must not read them) with values of
// exponents in [lo, hi].
func matrix[T kernels.Float](g *gen, c rcase, lo, hi, neg int) []T {
	_, m := guarded[T](c.size(), c.off)
	fill(g, m, lo, hi, neg)
	applyMode(g, m, c.mode)
	return m
}

// scores returns a score matrix: |s| < 64, or in a third of the cases
// |s| < 2048 so that exponentials underflow.
func scores[T kernels.Float](g *gen, c rcase) []T {
	if (c.rows+c.cols)%3 == 0 {
		return matrix[T](g, c, -4, 10, 4)
	}
	return matrix[T](g, c, -6, 5, 4)
}

// ceScale is the scale argument of the loss kernels: 1/rows (as the
// trainers pass it), 1, 0.5 or 3.
func ceScale[T kernels.Float](c rcase, i int) T {
	switch i % 4 {
	case 0:
		return T(1) / T(max(c.rows, 1)) // IEEE division: the same everywhere
	case 1:
		return 1
	case 2:
		return 0.5
	}
	return 3
}

func rowComponent[T kernels.Float](kernel string, call func(r *Recorder, g *gen, c rcase, i int)) Component {
	name := "kernels/" + kernel + "/" + tname[T]()
	return Component{Name: name, run: func(r *Recorder) {
		for i, c := range rowCases() {
			r.Case(c.String(), func() { call(r, newGen(name+"/"+c.String()), c, i) })
		}
	}}
}

// outMat returns a fresh guarded output of the matrix's layout, every
// element (gaps included) the sentinel.
func outMat[T kernels.Float](c rcase, off int) (buf, m []T) {
	return guarded[T](c.size(), off)
}

func rowComponents[T kernels.Float]() []Component {
	return []Component{
		rowComponent[T]("AddBias", func(r *Recorder, g *gen, c rcase, i int) {
			b := input[T](g, vcase{c.cols, c.off, c.mode}, -8, 8, 4)
			buf, m := clone(matrix[T](g, c, -8, 8, 4), c.off)
			kernels.AddBias(m, c.rows, c.cols, c.stride, b)
			put(r, "m", buf)
		}),
		rowComponent[T]("BiasReLU", func(r *Recorder, g *gen, c rcase, i int) {
			b := input[T](g, vcase{c.cols, c.off, c.mode}, -8, 8, 4)
			buf, m := clone(matrix[T](g, c, -8, 8, 4), c.off)
			kernels.BiasReLU(m, c.rows, c.cols, c.stride, b)
			put(r, "m", buf)
		}),
		rowComponent[T]("ColSum", func(r *Recorder, g *gen, c rcase, i int) {
			m := matrix[T](g, c, -8, 8, 4)
			buf, d := guarded[T](c.cols, (c.off+1)%8)
			kernels.ColSum(d, m, c.rows, c.cols, c.stride)
			put(r, "dst", buf)
		}),
		rowComponent[T]("RowMax", func(r *Recorder, g *gen, c rcase, i int) {
			var m []T
			if i%2 == 0 {
				m = matrix[T](g, c, -8, 8, 4)
			} else { // ties and signed zeros
				_, m = guarded[T](c.size(), c.off)
				for j := range m {
					m[j] = small[T](g, 3, -1)
				}
				applyMode(g, m, c.mode)
			}
			buf, d := guarded[T](c.rows, (c.off+1)%8)
			kernels.RowMax(d, m, c.rows, c.cols, c.stride)
			put(r, "dst", buf)
		}),
		rowComponent[T]("SoftmaxRows", func(r *Recorder, g *gen, c rcase, i int) {
			s := scores[T](g, c)
			buf, p := outMat[T](c, (c.off+1)%8)
			kernels.SoftmaxRows(p, s, c.rows, c.cols, c.stride)
			put(r, "p", buf)
			buf, s = clone(s, c.off) // in place
			kernels.SoftmaxRows(s, s, c.rows, c.cols, c.stride)
			put(r, "s", buf)
		}),
		rowComponent[T]("SoftmaxCERows", func(r *Recorder, g *gen, c rcase, i int) {
			s := scores[T](g, c)
			y := ints(g, c.rows, c.cols)
			scale := ceScale[T](c, i)
			buf, ds := outMat[T](c, (c.off+1)%8)
			loss := kernels.SoftmaxCERows(ds, s, c.rows, c.cols, c.stride, y, scale)
			r.F64("loss", loss)
			put(r, "ds", buf)
			buf, s = clone(s, c.off) // in place
			loss = kernels.SoftmaxCERows(s, s, c.rows, c.cols, c.stride, y, scale)
			r.F64("loss in place", loss)
			put(r, "s", buf)
		}),
		rowComponent[T]("HingeRows", func(r *Recorder, g *gen, c rcase, i int) {
			var s []T
			if i%2 == 0 {
				s = scores[T](g, c)
			} else { // margins of exactly 0 (s_j − s_y + 1 == 0) and ties
				_, s = guarded[T](c.size(), c.off)
				for j := range s {
					s[j] = small[T](g, 4, -1)
				}
				applyMode(g, s, c.mode)
			}
			y := ints(g, c.rows, c.cols)
			scale := ceScale[T](c, i)
			buf, ds := outMat[T](c, (c.off+1)%8)
			loss := kernels.HingeRows(ds, s, c.rows, c.cols, c.stride, y, scale)
			r.F64("loss", loss)
			put(r, "ds", buf)
			buf, s = clone(s, c.off) // in place
			loss = kernels.HingeRows(s, s, c.rows, c.cols, c.stride, y, scale)
			r.F64("loss in place", loss)
			put(r, "s", buf)
		}),
	}
}

// fmaComponent checks kernels.FMA, which the generic level and every Go
// caller use to fuse where the assembly does: random triples, cancelling
// ones (c = −round(a·b): the result is the product's rounding error),
// products that are exact float32 midpoints plus a tiny c (where rounding
// the float64 sum to float32 would double-round), subnormal results, and
// every triple of special values.
func fmaComponent[T kernels.Float]() Component {
	name := "kernels/FMA/" + tname[T]()
	return Component{Name: name, run: func(r *Recorder) {
		const n = 4096
		triples := func(label string, f func(g *gen) (a, b, c T)) {
			r.Case(label, func() {
				g := newGen(name + "/" + label)
				out := make([]T, n)
				for i := range out {
					a, b, c := f(g)
					out[i] = kernels.FMA(a, b, c)
				}
				put(r, "fma", out)
			})
		}
		triples("random", func(g *gen) (a, b, c T) {
			return val[T](g, -20, 20, 4), val[T](g, -20, 20, 4), val[T](g, -40, 40, 4)
		})
		triples("cancel", func(g *gen) (a, b, c T) {
			a, b = val[T](g, -20, 20, 4), val[T](g, -20, 20, 4)
			p := a * b // rounded product; not followed by an addition, so never fused
			return a, b, -p
		})
		triples("midpoint", func(g *gen) (a, b, c T) {
			// a has 13 significant bits and b 12: a·b has at most 25,
			// so it is often exactly halfway between two float32s.
			bits := 13
			if !dtype.Is32[T]() {
				bits = 27 // 27+27 = 54 bits: halfway between two float64s
			}
			a = T(1<<(bits-1)|g.intn(1<<(bits-1))) * pow2[T](-(bits - 1))
			b = T(1<<(bits-2)|g.intn(1<<(bits-2))) * pow2[T](-(bits - 2))
			c = val[T](g, -60, -26, 4)
			if g.intn(4) == 0 {
				c = 0
			}
			return a, b, c
		})
		triples("subnormal", func(g *gen) (a, b, c T) {
			// a·b around the subnormal range; c the smallest normals or a
			// random subnormal (exponent field 0).
			lo, minExp, mant := -75, -126, uint64(1)<<23
			if !dtype.Is32[T]() {
				lo, minExp, mant = -540, -1022, 1<<52
			}
			a, b = val[T](g, lo, lo+10, 4), val[T](g, lo, lo+10, 4)
			if g.intn(2) == 0 {
				return a, b, val[T](g, minExp, minExp+6, 4)
			}
			c = fromBits[T](g.u64() % mant)
			if g.intn(2) == 0 {
				c = -c
			}
			return a, b, c
		})
		r.Case("specials", func() {
			sp := specials[T](false)
			sp = append(sp, 1, -1, 0.5, pow2[T](-30))
			var out []T
			for _, a := range sp {
				for _, b := range sp {
					for _, c := range sp {
						out = append(out, kernels.FMA(a, b, c))
					}
				}
			}
			put(r, "fma", out)
		})
		r.Case("huge", func() {
			// Products that overflow T but whose sum with c does not, and
			// the reverse.
			g := newGen(name + "/huge")
			out := make([]T, n)
			hi := 127
			if !dtype.Is32[T]() {
				hi = 1023
			}
			for i := range out {
				a, b := val[T](g, hi/2, hi/2+2, 4), val[T](g, hi/2-2, hi/2+1, 4)
				c := val[T](g, hi-2, hi, 4)
				out[i] = kernels.FMA(a, b, c)
			}
			put(r, "fma", out)
		})
	}}
}
