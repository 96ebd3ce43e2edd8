package identity

import "github.com/nnkern/nnkern/kernels"

// The names below let a package that this one may not import (the
// internals of another package, by Go's internal rule) define components
// of the suite in its own tests and run them with TestSuite, with the same
// inputs, guard bands and hashing as the components here:
//
//	func TestIdentity(t *testing.T) {
//		identity.TestSuite(t, []identity.Component{identity.NewComponent("fused/MulAdd/f32", func(r *identity.Recorder) {
//			r.Case("4x8x3", func() {
//				g := identity.NewGen("fused/MulAdd/f32/4x8x3")
//				a := make([]float32, 12)
//				identity.Fill(g, a, -6, 6, 4)
//				buf, c := identity.Guarded[float32](32, 0)
//				...
//				identity.Put(r, "c", buf)
//			})
//		})})
//	}

// NewComponent returns the component named name ("package/Routine/dtype")
// whose cases run is.
func NewComponent(name string, run func(r *Recorder)) Component {
	return Component{Name: name, run: run}
}

// Gen is a stream of generated inputs (see gen.go: integers only, so every
// build sees the same values).
type Gen struct{ g *gen }

// NewGen returns the stream named name; each case should have its own.
func NewGen(name string) *Gen { return &Gen{newGen(name)} }

// Fill fills x from g with values of uniformly random exponent in
// [lo, hi], full random mantissas, and a sign negative with probability
// neg/8.
func Fill[T kernels.Float](g *Gen, x []T, lo, hi, neg int) { fill(g.g, x, lo, hi, neg) }

// Guarded returns a buffer of n elements at element offset off between
// guard bands of a NaN sentinel, and the window x of those n elements:
// record buf, so that a write outside x shows.
func Guarded[T kernels.Float](n, off int) (buf, x []T) { return guarded[T](n, off) }

// Put records the exact bits of x as the output label of the current case
// (every NaN but the guard sentinel as the one quiet NaN).
func Put[T kernels.Float](r *Recorder, label string, x []T) { put(r, label, x) }

// TypeName returns "f32" or "f64", the last element of a component's name.
func TypeName[T kernels.Float]() string { return tname[T]() }
