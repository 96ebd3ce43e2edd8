//go:build !amd64 || !gc || purego

package kernels

func momentumStep[T Float](w, g, v []T, lr, mu T) { momentumStepGeneric(w, g, v, lr, mu) }
func rmspropStep[T Float](w, g, c []T, lr, d, k, eps T) {
	rmspropStepGeneric(w, g, c, lr, d, k, eps)
}
func adamStep[T Float](w, g, m, v []T, lr, b1, k1, b2, k2, c1, c2, eps T) {
	adamStepGeneric(w, g, m, v, lr, b1, k1, b2, k2, c1, c2, eps)
}
