package identity

import (
	"fmt"

	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// gcase is one Gemm call: C (m×n) = alpha·op(A)·op(B) + beta·C.
type gcase struct {
	set         string
	tA, tB      bool
	m, n, k     int
	alpha, beta int // indices into gemmScalars
	pad, ro, co int // extra stride, row and column offset of the views
	nanC        bool
}

// gemmScalars are the alpha and beta values: 1, −0.5, 2 and 0 (beta = 0
// with C full of NaN: C must not be read).
var gemmScalars = []float64{1, -0.5, 2, 0}

func (c gcase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	s := fmt.Sprintf("%s/%s%s/%dx%dx%d/alpha=%g/beta=%g/pad=%d/off=%d,%d",
		c.set, t(c.tA), t(c.tB), c.m, c.n, c.k, gemmScalars[c.alpha], gemmScalars[c.beta], c.pad, c.ro, c.co)
	if c.nanC {
		s += "/NaN-C"
	}
	return s
}

var transposes = [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}}

// gemmCases: for each of the four transposes,
//   - grid: m × n over small sizes around the register tiles (6×16 and
//     6×8 on AVX2, wider on AVX-512) and SIMD widths, k cycling through
//     small values;
//   - k sweep: k = 1..70 for a few m×n;
//   - kc: k at and around the k-blocking (float32 kc = 512, float64 256,
//     and 384 = the L1-derived float64 value on a 48 KiB L1), 2·kc+3;
//   - large: shapes big enough to run in parallel (2·m·n·k >= 4 Mi FLOP),
//     with m >= 512 (op(B) packed) and n >= 512 (op(A) packed).
func gemmCases() []gcase {
	var cs []gcase
	dims := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 24, 25, 31, 32, 33, 48, 49, 64, 65, 70}
	ks := []int{1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64, 65}
	i := 0
	add := func(set string, t int, m, n, k int) {
		c := gcase{set: set, tA: transposes[t][0], tB: transposes[t][1], m: m, n: n, k: k,
			alpha: i % 4, beta: (i / 4) % 4, pad: []int{0, 1, 3, 16}[(i/16)%4], ro: i % 3, co: (i / 3) % 5}
		c.nanC = c.beta == 3
		cs = append(cs, c)
		i++
	}
	for t := range transposes {
		for im, m := range dims {
			for in, n := range dims {
				add("grid", t, m, n, ks[(im*5+in*3+t)%len(ks)])
			}
		}
		mn := [][2]int{{1, 1}, {6, 16}, {7, 17}, {13, 9}, {5, 33}, {12, 32}}
		for k := 1; k <= 70; k++ {
			p := mn[(k+t)%len(mn)]
			add("ksweep", t, p[0], p[1], k)
		}
		mn = [][2]int{{1, 1}, {7, 9}, {13, 33}, {6, 16}}
		for j, k := range []int{255, 256, 257, 383, 384, 385, 511, 512, 513, 515, 767, 768, 769, 1023, 1024, 1025, 1027} {
			p := mn[(j+t)%len(mn)]
			add("kc", t, p[0], p[1], k)
		}
		add("zero", t, 0, 5, 3)
		add("zero", t, 5, 0, 3)
		add("zero", t, 4, 5, 0)
	}
	// Large shapes (the same at every level, so they are kept moderate for
	// the generic level's float32 FMA emulation).
	add("large", 0, 100, 100, 1536) // the forward X·W1 of a batch, scaled down
	add("large", 1, 520, 48, 100)   // TN with m >= 512: op(B) packed, parallel
	add("large", 2, 40, 530, 100)   // NT with n >= 512: op(A) packed
	add("large", 3, 130, 70, 300)
	add("large", 1, 384, 100, 100)  // Xᵀ·dH of a batch, scaled down
	add("large", 0, 200, 200, 1031) // 200×3072×200 (X·W1 of a CIFAR batch) with k cut to 2·512+7
	add("large", 1, 1031, 200, 200) // its Xᵀ·dH (TN 3072×200×200) likewise
	return cs
}

// view returns a rows×cols view at (ro, co) of a larger matrix with
// stride cols+co+pad, every element of which is random.
func view[T kernels.Float](g *gen, rows, cols, pad, ro, co int, lo, hi int) blas.Matrix[T] {
	v, _ := viewIn[T](g, rows, cols, pad, ro, co, lo, hi)
	return v
}

// viewIn is view also returning the larger matrix's whole data, which an
// output's hash covers: elements around the view must stay untouched.
func viewIn[T kernels.Float](g *gen, rows, cols, pad, ro, co int, lo, hi int) (blas.Matrix[T], []T) {
	full := blas.NewMatrix[T](rows+ro+1, cols+co+pad)
	fill(g, full.Data, lo, hi, 4)
	return full.Slice(ro, ro+rows, co, co+cols), full.Data
}

func gemmComponent[T kernels.Float]() Component {
	name := "blas/Gemm/" + tname[T]()
	return Component{Name: name, run: func(r *Recorder) {
		for _, c := range gemmCases() {
			r.Case(c.String(), func() {
				g := newGen(name + "/" + c.String())
				ar, ac := c.m, c.k
				if c.tA {
					ar, ac = ac, ar
				}
				br, bc := c.k, c.n
				if c.tB {
					br, bc = bc, br
				}
				a := view[T](g, ar, ac, c.pad, c.ro, c.co, -4, 3)
				b := view[T](g, br, bc, (c.pad+1)%17, c.co%3, c.ro, -4, 3)
				cm, cdata := viewIn[T](g, c.m, c.n, c.pad, c.ro, c.co, -4, 3)
				if c.nanC {
					for i := 0; i < cm.Rows; i++ {
						for j := 0; j < cm.Cols; j++ {
							cm.Set(i, j, nanOf[T]())
						}
					}
				}
				blas.Gemm(c.tA, c.tB, T(gemmScalars[c.alpha]), a, b, T(gemmScalars[c.beta]), cm)
				put(r, "C", cdata)
			})
		}
	}}
}

func level12Components[T kernels.Float]() []Component {
	sizes := []int{1, 2, 3, 7, 8, 9, 16, 17, 31, 33, 64, 65, 100, 257}
	alphas := []float64{1, -0.5, 2, 0, 0.3}
	gemv := "blas/Gemv/" + tname[T]()
	axpy := "blas/Axpy/" + tname[T]()
	scal := "blas/Scal/" + tname[T]()
	return []Component{
		{Name: gemv, run: func(r *Recorder) {
			i := 0
			for _, tA := range []bool{false, true} {
				for ir, rows := range sizes {
					for ic, cols := range sizes {
						if (ir+ic)%2 == 1 && rows > 9 && cols > 9 {
							continue
						}
						alpha, beta := alphas[i%4], gemmScalars[(i/4)%4]
						pad := []int{0, 1, 5}[i%3]
						label := fmt.Sprintf("trans=%v/%dx%d/alpha=%g/beta=%g/pad=%d", tA, rows, cols, alpha, beta, pad)
						idx := i
						i++
						r.Case(label, func() {
							g := newGen(gemv + "/" + label)
							a := view[T](g, rows, cols, pad, idx%2, idx%3, -4, 3)
							nx, ny := cols, rows
							if tA {
								nx, ny = rows, cols
							}
							x := input[T](g, vcase{nx, idx % 8, modeNormal}, -4, 3, 4)
							ybuf, y := clone(input[T](g, vcase{ny, (idx + 3) % 8, modeNormal}, -4, 3, 4), (idx+3)%8)
							if beta == 0 {
								for j := range y {
									y[j] = nanOf[T]()
								}
							}
							blas.Gemv(tA, T(alpha), a, x, T(beta), y)
							put(r, "y", ybuf)
						})
					}
				}
			}
		}},
		{Name: axpy, run: func(r *Recorder) {
			for i, rows := range sizes {
				for j, cols := range sizes[:8] {
					same := (i+j)%5 == 0
					alpha := alphas[(i+j)%len(alphas)]
					label := fmt.Sprintf("%dx%d/alpha=%g/same=%v", rows, cols, alpha, same)
					r.Case(label, func() {
						g := newGen(axpy + "/" + label)
						x := view[T](g, rows, cols, j%3, i%2, j%2, -6, 6)
						y, ydata := viewIn[T](g, rows, cols, (j+1)%4, j%2, i%3, -6, 6)
						if same {
							x = y
						}
						blas.Axpy(T(alpha), x, y)
						put(r, "Y", ydata)
					})
				}
			}
		}},
		{Name: scal, run: func(r *Recorder) {
			for i, rows := range sizes {
				for j, cols := range sizes[:8] {
					alpha := alphas[(i+2*j)%len(alphas)]
					label := fmt.Sprintf("%dx%d/alpha=%g", rows, cols, alpha)
					r.Case(label, func() {
						g := newGen(scal + "/" + label)
						x, xdata := viewIn[T](g, rows, cols, j%3, i%2, j%2, -6, 6)
						if alpha == 0 { // X = 0 without reading it: NaNs vanish
							x.Set(0, 0, nanOf[T]())
						}
						blas.Scal(T(alpha), x)
						put(r, "X", xdata)
					})
				}
			}
		}},
	}
}
