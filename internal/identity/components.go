package identity

import "sort"

// Components returns every component of the suite that this package
// defines, sorted by name. The fused kernels of softmax/internal/fused,
// which Go's internal rule keeps this package from importing, are
// components of the suite too, run by that package's TestIdentity.
func Components() []Component {
	var cs []Component
	cs = append(cs, kernelComponents[float32]()...)
	cs = append(cs, kernelComponents[float64]()...)
	cs = append(cs, gemmComponent[float32](), gemmComponent[float64]())
	cs = append(cs, level12Components[float32]()...)
	cs = append(cs, level12Components[float64]()...)
	cs = append(cs, modelComponents[float32]()...)
	cs = append(cs, modelComponents[float64]()...)
	cs = append(cs, nprandComponent(), inputsComponent())
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

// inputsComponent hashes a sample of the generated inputs themselves: if
// two builds disagree on it, the generator (not a kernel) is at fault, and
// every other difference between those builds is suspect.
func inputsComponent() Component {
	return Component{Name: "identity/inputs", run: func(r *Recorder) {
		r.Case("vectors", func() {
			g := newGen("inputs")
			for _, c := range []vcase{{100, 3, modeNormal}, {100, 5, modeFinite}, {100, 7, modeSpecial}} {
				put(r, "f32 "+c.String(), input[float32](g, c, -8, 8, 4))
				put(r, "f64 "+c.String(), input[float64](g, c, -8, 8, 4))
				put(r, "f32 exp "+c.String(), expInput[float32](g, c))
				put(r, "f64 exp "+c.String(), expInput[float64](g, c))
				put(r, "f32 small "+c.String(), maxInput[float32](g, vcase{c.n, 1, c.mode}))
				put(r, "f64 small "+c.String(), maxInput[float64](g, vcase{c.n, 1, c.mode}))
			}
			put(r, "f32 specials", specials[float32](false))
			put(r, "f64 specials", specials[float64](false))
			put(r, "f32 view", view[float32](g, 5, 7, 3, 1, 2, -4, 3).Data)
			put(r, "f64 view", view[float64](g, 5, 7, 3, 1, 2, -4, 3).Data)
			X, y := trainData[float32](g, 20, 11, 10)
			putMat(r, "f32 train X", X)
			r.Ints("f32 train y", y...)
			X64, y64 := trainData[float64](g, 20, 11, 10)
			putMat(r, "f64 train X", X64)
			r.Ints("f64 train y", y64...)
		})
	}}
}
