package gonumblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/nnkern/nnkern/kernels"
)

// The level-1/2 routines against gonum's, with the tolerance of
// compare_test.go (γ(n+2) for gemv's n-term dot products, γ(n) for a
// dot product, γ(2) for axpy); scal is one correctly rounded product on
// both sides, so it must agree bit for bit.

// ops bundles one element type's routines: ours and gonum's.
type ops[T kernels.Float] struct {
	gemv func(impl blas.Transpose, m, n int, alpha T, a []T, lda int, x []T, incX int, beta T, y []T, incY int)
	dot  func(n int, x []T, incX int, y []T, incY int) T
	axpy func(n int, alpha T, x []T, incX int, y []T, incY int)
	scal func(n int, alpha T, x []T, incX int)
}

func level12[T kernels.Float]() (ours, ref ops[T]) {
	var z T
	if _, ok := any(z).(float32); ok {
		o := ops[float32]{Implementation{}.Sgemv, Implementation{}.Sdot, Implementation{}.Saxpy, Implementation{}.Sscal}
		r := ops[float32]{gonum.Implementation{}.Sgemv, gonum.Implementation{}.Sdot, gonum.Implementation{}.Saxpy, gonum.Implementation{}.Sscal}
		return any(o).(ops[T]), any(r).(ops[T])
	}
	o := ops[float64]{Implementation{}.Dgemv, Implementation{}.Ddot, Implementation{}.Daxpy, Implementation{}.Dscal}
	r := ops[float64]{gonum.Implementation{}.Dgemv, gonum.Implementation{}.Ddot, gonum.Implementation{}.Daxpy, gonum.Implementation{}.Dscal}
	return any(o).(ops[T]), any(r).(ops[T])
}

func TestGemvMatchesGonum(t *testing.T) {
	t.Run("f32", testGemvMatchesGonum[float32])
	t.Run("f64", testGemvMatchesGonum[float64])
}

func testGemvMatchesGonum[T kernels.Float](t *testing.T) {
	ours, ref := level12[T]()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][2]int{{0, 5}, {5, 0}, {1, 1}, {3, 7}, {17, 33}, {64, 65}, {130, 257}} {
		m, n := sh[0], sh[1]
		for _, tA := range transposes {
			for _, pad := range []int{0, 5} {
				for _, inc := range []int{1, 2} {
					for _, ab := range [][2]T{{1, 0}, {-0.5, 1}, {2, -1.5}, {0, 3}, {0, 0}} {
						name := fmt.Sprintf("%dx%d/%s/pad=%d/inc=%d/alpha=%v/beta=%v", m, n, tname(tA), pad, inc, ab[0], ab[1])
						gemvCase(t, name, rng, ours, ref, tA, m, n, pad, inc, ab[0], ab[1])
					}
				}
			}
		}
	}
}

func gemvCase[T kernels.Float](t *testing.T, name string, rng *rand.Rand, ours, ref ops[T], tA blas.Transpose, m, n, pad, inc int, alpha, beta T) {
	t.Helper()
	lda := max(1, n) + pad
	lenX, lenY := n, m
	if tA != blas.NoTrans {
		lenX, lenY = m, n
	}
	a := randSlice[T](rng, max(0, m*lda))
	x := randSlice[T](rng, max(0, (lenX-1)*inc+1))
	y := randSlice[T](rng, max(0, (lenY-1)*inc+1))
	if beta == 0 {
		for i := range y {
			y[i] = T(math.NaN())
		}
	}
	got, want := append([]T(nil), y...), append([]T(nil), y...)
	ours.gemv(tA, m, n, alpha, a, lda, x, inc, beta, got, inc)
	ref.gemv(tA, m, n, alpha, a, lda, x, inc, beta, want, inc)
	if m == 0 || n == 0 {
		if !same(got, want) {
			t.Fatalf("%s: y changed on an empty A: %v, gonum %v", name, got, want)
		}
		return
	}
	for i := 0; i < lenY; i++ {
		var s float64
		for j := 0; j < lenX; j++ {
			var aij T
			if tA == blas.NoTrans {
				aij = a[i*lda+j]
			} else {
				aij = a[j*lda+i]
			}
			s += math.Abs(float64(aij) * float64(x[j*inc]))
		}
		bound := math.Abs(float64(alpha)) * s
		if beta != 0 {
			bound += math.Abs(float64(beta) * float64(y[i*inc]))
		}
		g, w := got[i*inc], want[i*inc]
		tol := 2 * gamma[T](lenX+2) * bound
		if math.IsNaN(float64(g)) || math.Abs(float64(g)-float64(w)) > tol {
			t.Fatalf("%s: y[%d] = %v, gonum %v (tol %.3g)", name, i, g, w, tol)
		}
	}
	for i := range got {
		if i%inc != 0 && !same(got[i:i+1], want[i:i+1]) {
			t.Fatalf("%s: y[%d] between the increments written", name, i)
		}
	}
}

func TestLevel1MatchesGonum(t *testing.T) {
	t.Run("f32", testLevel1MatchesGonum[float32])
	t.Run("f64", testLevel1MatchesGonum[float64])
}

func testLevel1MatchesGonum[T kernels.Float](t *testing.T) {
	ours, ref := level12[T]()
	rng := rand.New(rand.NewPCG(5, 6))
	var lengths []int
	for n := 0; n <= 150; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 1000, 4099)
	for _, n := range lengths {
		for _, inc := range []int{1, 2, -1} {
			ln := max(0, (n-1)*abs(inc)+1)
			x, y := randSlice[T](rng, ln), randSlice[T](rng, ln)
			name := fmt.Sprintf("n=%d/inc=%d", n, inc)

			g, w := ours.dot(n, x, inc, y, inc), ref.dot(n, x, inc, y, inc)
			var s float64
			for i := range x {
				s += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if tol := 2 * gamma[T](n) * s; math.Abs(float64(g)-float64(w)) > tol {
				t.Fatalf("dot %s: %v, gonum %v (tol %.3g)", name, g, w, tol)
			}

			for _, alpha := range []T{0, 1, -0.75} {
				gy, wy := append([]T(nil), y...), append([]T(nil), y...)
				ours.axpy(n, alpha, x, inc, gy, inc)
				ref.axpy(n, alpha, x, inc, wy, inc)
				for i := range gy {
					tol := 2 * gamma[T](2) * (math.Abs(float64(alpha)*float64(x[i])) + math.Abs(float64(y[i])))
					if math.Abs(float64(gy[i])-float64(wy[i])) > tol {
						t.Fatalf("axpy %s alpha=%v: y[%d] = %v, gonum %v", name, alpha, i, gy[i], wy[i])
					}
				}
				gx, wx := append([]T(nil), x...), append([]T(nil), x...)
				if alpha == 0 && len(gx) > 0 {
					gx[0], wx[0] = T(math.NaN()), T(math.NaN()) // overwritten, not read
				}
				ours.scal(n, alpha, gx, inc)
				ref.scal(n, alpha, wx, inc)
				if !same(gx, wx) {
					t.Fatalf("scal %s alpha=%v: %v, gonum %v", name, alpha, gx, wx)
				}
			}
		}
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
