package identity

import (
	"fmt"

	"github.com/nnkern/nnkern/kernels"
)

// Lengths of the vector kernels' cases: every length through two full
// rounds of the canonical reduction's 64 float32 partial sums plus a
// 3-element tail (so every partial-sum tail and every vector tail of any
// width up to 512 bits is met), then large odd lengths.
var vecLens = func() []int {
	var ns []int
	for n := 0; n <= 2*64+3; n++ {
		ns = append(ns, n)
	}
	return append(ns, 1000, 3071, 3073, 4099)
}()

// The input modes of a case.
const (
	modeNormal  = iota // full-mantissa values, mixed signs and exponents
	modeFinite         // with ±0, subnormals, huge values and ±MaxFloat sprinkled in
	modeSpecial        // the same plus ±Inf and NaN
)

var modeNames = [...]string{"", "/finite-specials", "/specials"}

type vcase struct{ n, off, mode int }

func (c vcase) String() string { return fmt.Sprintf("n=%d/off=%d%s", c.n, c.off, modeNames[c.mode]) }

// vecCases: every length at offsets 0..7 (misalignment by whole elements),
// and every length once with finite specials and once with all specials.
func vecCases() []vcase {
	var cs []vcase
	for _, n := range vecLens {
		for off := 0; off < 8; off++ {
			cs = append(cs, vcase{n, off, modeNormal})
		}
		cs = append(cs, vcase{n, n % 8, modeFinite}, vcase{n, (n + 3) % 8, modeSpecial})
	}
	return cs
}

// input returns a guarded input vector of the case, values with exponents
// in [lo, hi] (negative with probability neg/8), specials per the mode.
func input[T kernels.Float](g *gen, c vcase, lo, hi, neg int) []T {
	_, x := guarded[T](c.n, c.off)
	fill(g, x, lo, hi, neg)
	applyMode(g, x, c.mode)
	return x
}

func applyMode[T kernels.Float](g *gen, x []T, mode int) {
	switch mode {
	case modeFinite:
		sprinkle(g, x, specials[T](true), 6)
	case modeSpecial:
		sprinkle(g, x, specials[T](false), 6)
	}
}

// scalar returns the case's scalar argument (Axpy's a, Scale's a): a
// random value, or one of 0, −0, 1, −1, 0.5, a huge value, and in the
// specials mode also NaN and ±Inf.
func scalar[T kernels.Float](g *gen, i, mode int) T {
	fixed := []T{0, fromBits[T](signBit[T]()), 1, -1, 0.5, pow2[T](60)}
	if mode == modeSpecial {
		sp := specials[T](false)
		fixed = append(fixed, sp[len(sp)-3:]...)
	}
	if i%3 == 0 {
		return fixed[(i/3)%len(fixed)]
	}
	return val[T](g, -4, 4, 4)
}

// vecComponent makes a component that runs call on every vector case.
func vecComponent[T kernels.Float](kernel string, call func(r *Recorder, g *gen, c vcase, i int)) Component {
	name := "kernels/" + kernel + "/" + tname[T]()
	return Component{Name: name, run: func(r *Recorder) {
		for i, c := range vecCases() {
			r.Case(c.String(), func() { call(r, newGen(name+"/"+c.String()), c, i) })
		}
	}}
}

func kernelComponents[T kernels.Float]() []Component {
	cs := []Component{
		vecComponent[T]("Dot", func(r *Recorder, g *gen, c vcase, i int) {
			x, y := input[T](g, c, -8, 8, 4), input[T](g, c, -8, 8, 4)
			put(r, "dot", []T{kernels.Dot(x, y)})
		}),
		vecComponent[T]("Axpy", func(r *Recorder, g *gen, c vcase, i int) {
			a := scalar[T](g, i, c.mode)
			x := input[T](g, c, -8, 8, 4)
			buf, y := clone(input[T](g, c, -8, 8, 4), (c.off+5)%8)
			kernels.Axpy(a, x, y)
			put(r, "y", buf)
		}),
		vecComponent[T]("Scale", func(r *Recorder, g *gen, c vcase, i int) {
			a := scalar[T](g, i, c.mode)
			buf, x := clone(input[T](g, c, -8, 8, 4), c.off)
			kernels.Scale(a, x)
			put(r, "x", buf)
		}),
		vecComponent[T]("AddTo", func(r *Recorder, g *gen, c vcase, i int) {
			x := input[T](g, c, -8, 8, 4)
			buf, d := clone(input[T](g, c, -8, 8, 4), (c.off+1)%8)
			kernels.AddTo(d, x)
			put(r, "dst", buf)
		}),
		vecComponent[T]("SubFrom", func(r *Recorder, g *gen, c vcase, i int) {
			x := input[T](g, c, -8, 8, 4)
			buf, d := clone(input[T](g, c, -8, 8, 4), (c.off+2)%8)
			kernels.SubFrom(d, x)
			put(r, "dst", buf)
		}),
		vecComponent[T]("MulTo", func(r *Recorder, g *gen, c vcase, i int) {
			x := input[T](g, c, -8, 8, 4)
			buf, d := clone(input[T](g, c, -8, 8, 4), (c.off+3)%8)
			kernels.MulTo(d, x)
			put(r, "dst", buf)
		}),
		vecComponent[T]("Sum", func(r *Recorder, g *gen, c vcase, i int) {
			put(r, "sum", []T{kernels.Sum(input[T](g, c, -8, 8, 4))})
		}),
		vecComponent[T]("SumSq", func(r *Recorder, g *gen, c vcase, i int) {
			put(r, "sumsq", []T{kernels.SumSq(input[T](g, c, -8, 8, 4))})
		}),
		vecComponent[T]("SumSq64", func(r *Recorder, g *gen, c vcase, i int) {
			put(r, "sumsq64", []float64{kernels.SumSq64(input[T](g, c, -8, 8, 4))})
		}),
		vecComponent[T]("Max", func(r *Recorder, g *gen, c vcase, i int) {
			put(r, "max", []T{kernels.Max(maxInput[T](g, c))})
		}),
		vecComponent[T]("ArgMax", func(r *Recorder, g *gen, c vcase, i int) {
			r.Ints("argmax", kernels.ArgMax(maxInput[T](g, c)))
		}),
		vecComponent[T]("ReLU", func(r *Recorder, g *gen, c vcase, i int) {
			x := maxInput[T](g, c)
			buf, d := guarded[T](c.n, (c.off+1)%8)
			kernels.ReLU(d, x)
			put(r, "dst", buf)
			buf, x = clone(x, c.off) // in place
			kernels.ReLU(x, x)
			put(r, "x", buf)
		}),
		vecComponent[T]("ReLUBackward", func(r *Recorder, g *gen, c vcase, i int) {
			h := maxInput[T](g, c)
			buf, dh := clone(input[T](g, c, -8, 8, 4), (c.off+6)%8)
			kernels.ReLUBackward(dh, h)
			put(r, "dh", buf)
		}),
		vecComponent[T]("Exp", func(r *Recorder, g *gen, c vcase, i int) {
			x := expInput[T](g, c)
			buf, d := guarded[T](c.n, (c.off+1)%8)
			kernels.Exp(d, x)
			put(r, "dst", buf)
			buf, x = clone(x, c.off) // in place
			kernels.Exp(x, x)
			put(r, "x", buf)
		}),
		vecComponent[T]("U8ToFloat", func(r *Recorder, g *gen, c vcase, i int) {
			src := make([]uint8, c.n+c.off)[c.off:]
			for j := range src {
				src[j] = uint8(g.u64())
			}
			mean := input[T](g, c, -3, 7, 1)
			buf, d := guarded[T](c.n, (c.off+2)%8)
			kernels.U8ToFloat(d, src, mean)
			put(r, "dst", buf)
		}),
		vecComponent[T]("MomentumStep", func(r *Recorder, g *gen, c vcase, i int) {
			lr, mu := scalar[T](g, i, c.mode), rate[T](g)
			dw := input[T](g, c, -70, 66, 4)
			wb, w := clone(input[T](g, c, -8, 8, 4), (c.off+1)%8)
			vb, v := clone(input[T](g, c, -30, 8, 4), (c.off+2)%8)
			kernels.MomentumStep(w, dw, v, lr, mu)
			put(r, "w", wb)
			put(r, "v", vb)
		}),
		vecComponent[T]("RMSPropStep", func(r *Recorder, g *gen, c vcase, i int) {
			lr, d, k, eps := scalar[T](g, i, c.mode), rate[T](g), rate[T](g), val[T](g, -30, -20, 0)
			dw := input[T](g, c, -70, 66, 4)
			wb, w := clone(input[T](g, c, -8, 8, 4), (c.off+3)%8)
			cb, cache := clone(input[T](g, c, -60, 60, 0), (c.off+4)%8)
			kernels.RMSPropStep(w, dw, cache, lr, d, k, eps)
			put(r, "w", wb)
			put(r, "cache", cb)
		}),
		vecComponent[T]("AdamStep", func(r *Recorder, g *gen, c vcase, i int) {
			lr, b1, k1, b2, k2 := scalar[T](g, i, c.mode), rate[T](g), rate[T](g), rate[T](g), rate[T](g)
			c1, c2, eps := val[T](g, -10, -1, 0), val[T](g, -10, -1, 0), val[T](g, -30, -20, 0)
			dw := input[T](g, c, -70, 66, 4)
			wb, w := clone(input[T](g, c, -8, 8, 4), (c.off+5)%8)
			mb, m := clone(input[T](g, c, -30, 8, 4), (c.off+6)%8)
			vb, v := clone(input[T](g, c, -60, 60, 0), (c.off+7)%8)
			kernels.AdamStep(w, dw, m, v, lr, b1, k1, b2, k2, c1, c2, eps)
			put(r, "w", wb)
			put(r, "m", mb)
			put(r, "v", vb)
		}),
	}
	cs = append(cs, rowComponents[T]()...)
	cs = append(cs, fmaComponent[T]())
	return cs
}

// rate returns a decay rate or its complement as the update rules pass
// them: a value in [1/16, 1).
func rate[T kernels.Float](g *gen) T { return val[T](g, -4, -1, 0) }

// maxInput: for Max, ArgMax, ReLU and ReLUBackward, half of the cases use
// small integers with many ties and zeros of both signs (which one is
// returned, what ReLU keeps, h <= 0), the others full-mantissa values.
func maxInput[T kernels.Float](g *gen, c vcase) []T {
	if c.off%2 == 0 {
		return input[T](g, c, -8, 8, 4)
	}
	_, x := guarded[T](c.n, c.off)
	for j := range x {
		x[j] = small[T](g, 3, -1)
	}
	applyMode(g, x, c.mode)
	return x
}

// expInput: mostly the softmax domain (x <= 0, down to about −2^10 so
// that results underflow), some positive values up to overflow, and values
// within a few ulps of the thresholds (flush to +0 below about −708.39 /
// −87.33, +Inf above ln(MaxFloat)).
func expInput[T kernels.Float](g *gen, c vcase) []T {
	_, x := guarded[T](c.n, c.off)
	edges := []float64{-708.39, -708.3964185322641, -745.1332191019412, 709.782712893384, -87.33, -87.33654475, -103.972084, 88.72283935546875, 0}
	for j := range x {
		switch k := g.intn(16); {
		case k < 10:
			x[j] = val[T](g, -30, 9, 8)
		case k < 12:
			x[j] = val[T](g, -30, 7, 2)
		default:
			e := T(edges[g.intn(len(edges))])
			b := bitsOf(e)
			if e != 0 {
				b = uint64(int64(b) + int64(g.intn(9)-4)) // a few ulps either side
			}
			x[j] = fromBits[T](b)
		}
	}
	applyMode(g, x, c.mode)
	return x
}
