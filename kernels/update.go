package kernels

import "math"

//go:generate sh -c "cd _gen && go run . -family update -out ../update_amd64.s -stubs ../update_stub_amd64.go -pkg kernels"

// The update family: one elementwise step of the momentum, rmsprop and
// adam update rules (package train applies them; sgd is Axpy(−lr, g, w)).
// Each is written as its rule's formula with every operation rounded on
// its own in T (T(a*b) + T(c*d): no fused multiply-add, no reciprocal, the
// square root correctly rounded), so the assembly, which computes each
// lane with the same correctly rounded instructions in the same order,
// gives the same bits. The slices must not overlap one another.

// MomentumStep is one step of SGD with momentum (mu the momentum, lr the
// learning rate), for every i:
//
//	v[i] = T(mu·v[i]) − T(lr·g[i])
//	w[i] = w[i] + v[i]
//
// It panics unless g and v have w's length.
func MomentumStep[T Float](w, g, v []T, lr, mu T) {
	checkLen("MomentumStep", "w", len(w), "g", len(g))
	checkLen("MomentumStep", "w", len(w), "v", len(v))
	momentumStep(w, g, v, lr, mu)
}

func momentumStepGeneric[T Float](w, g, v []T, lr, mu T) {
	g, v = g[:len(w)], v[:len(w)]
	for i, gi := range g {
		vi := T(mu*v[i]) - T(lr*gi)
		v[i] = vi
		w[i] += vi
	}
}

// RMSPropStep is one step of RMSProp with the squared-gradient cache c
// (d its decay rate, k = 1 − d as the caller rounds it, eps the
// denominator's guard), for every i:
//
//	c[i] = T(d·c[i]) + T(k·T(g[i]·g[i]))
//	w[i] = w[i] − T(lr·g[i]) / (√c[i] + eps)
//
// It panics unless g and c have w's length.
func RMSPropStep[T Float](w, g, c []T, lr, d, k, eps T) {
	checkLen("RMSPropStep", "w", len(w), "g", len(g))
	checkLen("RMSPropStep", "w", len(w), "c", len(c))
	rmspropStep(w, g, c, lr, d, k, eps)
}

func rmspropStepGeneric[T Float](w, g, c []T, lr, d, k, eps T) {
	g, c = g[:len(w)], c[:len(w)]
	for i, gi := range g {
		ci := T(d*c[i]) + T(k*T(gi*gi))
		c[i] = ci
		w[i] -= T(lr*gi) / (sqrt(ci) + eps)
	}
}

// AdamStep is one step of Adam with the moments m and v (b1 and b2 their
// decay rates, k1 = 1 − b1 and k2 = 1 − b2 as the caller rounds them, c1
// and c2 the bias corrections 1 − b1ᵗ and 1 − b2ᵗ of step t, eps the
// denominator's guard), for every i:
//
//	m[i] = T(b1·m[i]) + T(k1·g[i])
//	v[i] = T(b2·v[i]) + T(k2·T(g[i]·g[i]))
//	w[i] = w[i] − T(lr·(m[i]/c1)) / (√(v[i]/c2) + eps)
//
// It panics unless g, m and v have w's length.
func AdamStep[T Float](w, g, m, v []T, lr, b1, k1, b2, k2, c1, c2, eps T) {
	checkLen("AdamStep", "w", len(w), "g", len(g))
	checkLen("AdamStep", "w", len(w), "m", len(m))
	checkLen("AdamStep", "w", len(w), "v", len(v))
	adamStep(w, g, m, v, lr, b1, k1, b2, k2, c1, c2, eps)
}

func adamStepGeneric[T Float](w, g, m, v []T, lr, b1, k1, b2, k2, c1, c2, eps T) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		mi := T(b1*m[i]) + T(k1*gi)
		vi := T(b2*v[i]) + T(k2*T(gi*gi))
		m[i], v[i] = mi, vi
		w[i] -= T(lr*(mi/c1)) / (sqrt(vi/c2) + eps)
	}
}

// sqrt is the correctly rounded square root in T: float32's through
// float64 is exact, since 53 >= 2·24+2 bits make rounding twice give the
// same result as rounding once.
func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }
