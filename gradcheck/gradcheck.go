// Package gradcheck compares analytic gradients with numerical ones, the
// way the reference notebooks do (eval_numerical_gradient,
// grad_check_sparse and rel_error).
//
//	loss := func() float64 { l, _ := softmax.LossNaive(W, X, y, 0); return l }
//	_, dW := softmax.LossNaive(W, X, y, 0)
//	num := gradcheck.Numerical(loss, W.Data, 1e-5) // perturbs W in place
//	fmt.Println(gradcheck.RelError(num, dW.Data))   // ~1e-9 for a correct dW
//
// f must read x (usually it closes over the parameters x is the storage
// of); every function here restores x exactly before returning.
package gradcheck

import (
	"fmt"
	"math"

	"github.com/nnkern/nnkern/nprand"
)

// Numerical returns the centered-difference gradient of f with respect to
// every element of x: (f(x+h·eᵢ) − f(x−h·eᵢ)) / 2h. x is perturbed in
// place one element at a time and restored bit for bit afterwards.
func Numerical(f func() float64, x []float64, h float64) []float64 {
	grad := make([]float64, len(x))
	for i := range x {
		grad[i] = centered(f, x, i, h)
	}
	return grad
}

func centered(f func() float64, x []float64, i int, h float64) float64 {
	old := x[i]
	x[i] = old + h
	fp := f()
	x[i] = old - h
	fm := f()
	x[i] = old
	return (fp - fm) / (2 * h)
}

// Check is one sampled element of a sparse gradient check.
type Check struct {
	Index     int     // element of x
	Numerical float64 // centered difference
	Analytic  float64 // analytic[Index]
	RelError  float64 // |n−a| / (|n|+|a|), 0 when both are 0
}

// Sparse checks numChecks elements of x chosen uniformly at random with
// rng (rng.Randint(0, len(x)) each; repeats are possible, as in the
// reference's grad_check_sparse), comparing the centered difference with
// step h against analytic. x is restored afterwards. It panics if
// len(analytic) != len(x), or if x is empty while numChecks > 0.
func Sparse(f func() float64, x, analytic []float64, numChecks int, h float64, rng *nprand.RandomState) []Check {
	if len(analytic) != len(x) {
		panic(fmt.Sprintf("gradcheck.Sparse: len(analytic)=%d != len(x)=%d", len(analytic), len(x)))
	}
	if numChecks > 0 && len(x) == 0 {
		panic("gradcheck.Sparse: x is empty")
	}
	checks := make([]Check, 0, max(numChecks, 0))
	for range numChecks {
		i := rng.Randint(0, len(x))
		n := centered(f, x, i, h)
		a := analytic[i]
		checks = append(checks, Check{Index: i, Numerical: n, Analytic: a, RelError: relErr(n, a)})
	}
	return checks
}

func relErr(n, a float64) float64 {
	d := math.Abs(n) + math.Abs(a)
	if d == 0 {
		return 0
	}
	return math.Abs(n-a) / d
}

// RelError returns max over i of |a[i]−b[i]| / max(1e-8, |a[i]|+|b[i]|),
// the reference notebooks' rel_error. It panics if the lengths differ.
func RelError(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("gradcheck.RelError: len(a)=%d != len(b)=%d", len(a), len(b)))
	}
	m := 0.0
	for i := range a {
		e := math.Abs(a[i]-b[i]) / math.Max(1e-8, math.Abs(a[i])+math.Abs(b[i]))
		if e > m || math.IsNaN(e) {
			m = e
		}
	}
	return m
}

// RoundoffBound bounds the rounding error of a centered difference with
// step h of a function whose value fx is a sum of n floating-point terms
// (a mean loss over n examples, say): each evaluation may be off by up to
// about n·ε·|fx| (ε = 2⁻⁵²), and the difference of two such evaluations is
// divided by 2h, giving n·ε·|fx|/h. Where a gradient element is not much
// larger than this bound, its numerical estimate carries no relative
// accuracy and should be judged by its absolute error against the bound.
func RoundoffBound(fx, h float64, n int) float64 {
	const eps = 0x1p-52
	return float64(max(n, 1)) * eps * math.Abs(fx) / h
}
