package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/nnkern/nnkern/internal/allocstest"
	"github.com/nnkern/nnkern/internal/pool"
	"github.com/nnkern/nnkern/kernels"
)

// impl is one implementation under test: a backend, and for native an ISA
// level.
type impl struct {
	name    string
	backend string
	isa     kernels.Level
	// pack forces the native driver's choices: 0 default; 1 pack every
	// operand and split the columns of C among 3 goroutines; 2 read A and
	// B in place wherever possible and split the rows among 3 goroutines.
	pack int
	// procs, if not 0, is the GOMAXPROCS to run with.
	procs int
}

// impls lists every compiled-in backend; native once per ISA level this
// machine has (a level the CPU has is never skipped), and on the best
// level also at GOMAXPROCS 1 and 2 and with the packing variants (at 3).
// Every native one must give the bits of native/isa=generic.
func impls() []impl {
	var out []impl
	for _, b := range Backends() {
		if b == "native" {
			for i, l := range kernels.Levels() {
				out = append(out, impl{name: "native/isa=" + l.String(), backend: b, isa: l})
				if i == 0 {
					// The packing variants of the driver, on the best level.
					out = append(out,
						impl{name: "native/isa=" + l.String() + "/procs=1", backend: b, isa: l, procs: 1},
						impl{name: "native/isa=" + l.String() + "/procs=2", backend: b, isa: l, procs: 2},
						impl{name: "native/isa=" + l.String() + "/pack=all", backend: b, isa: l, pack: 1},
						impl{name: "native/isa=" + l.String() + "/pack=none", backend: b, isa: l, pack: 2})
				}
			}
			continue
		}
		out = append(out, impl{name: b, backend: b, isa: kernels.ISA()})
	}
	return out
}

// with runs f with the implementation selected, restoring the previous
// backend and ISA level afterwards.
func (im impl) with(t testing.TB, f func()) {
	prev := Current()
	if err := Use(im.backend); err != nil {
		t.Fatal(err)
	}
	restore := kernels.SetISA(im.isa)
	pb, pa, pt, sp := tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit
	procs := runtime.GOMAXPROCS(0)
	if im.procs != 0 {
		runtime.GOMAXPROCS(im.procs)
	}
	switch im.pack {
	case 1:
		// Also split columns across 3 goroutines.
		tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit = 0, 0, 0, 2
		runtime.GOMAXPROCS(3)
	case 2:
		// Also split rows across 3 goroutines.
		tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit = math.MaxInt, math.MaxInt, math.MaxInt, 1
		runtime.GOMAXPROCS(3)
	}
	defer func() {
		runtime.GOMAXPROCS(procs)
		tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit = pb, pa, pt, sp
		restore()
		if err := Use(prev); err != nil {
			t.Fatal(err)
		}
	}()
	f()
}

// refGemm is the naive reference: every product and sum in float64.
// It also returns, per element of C, the magnitude bound
// |alpha|·Σ_p |op(A)_ip·op(B)_pj| + |beta·C_ij| used for the tolerance.
func refGemm[T float](tA, tB bool, alpha T, a, b Matrix[T], beta T, c Matrix[T]) (want, mag []float64) {
	m, n := c.Rows, c.Cols
	k := a.Cols
	if tA {
		k = a.Rows
	}
	// Dense float64 copies: oa is op(A) row-major (m×k), ob is op(B)
	// transposed (n×k), so the inner loop runs over contiguous memory.
	oa := make([]float64, m*k)
	ob := make([]float64, n*k)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			if tA {
				oa[i*k+p] = float64(a.At(p, i))
			} else {
				oa[i*k+p] = float64(a.At(i, p))
			}
		}
	}
	for j := 0; j < n; j++ {
		for p := 0; p < k; p++ {
			if tB {
				ob[j*k+p] = float64(b.At(j, p))
			} else {
				ob[j*k+p] = float64(b.At(p, j))
			}
		}
	}
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		ai := oa[i*k : i*k+k]
		for j := 0; j < n; j++ {
			bj := ob[j*k : j*k+k]
			var s, sa float64
			for p, x := range ai {
				xy := x * bj[p]
				s += xy
				sa += math.Abs(xy)
			}
			w := float64(alpha) * s
			g := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				cij := float64(c.At(i, j))
				w += float64(beta) * cij
				g += math.Abs(float64(beta) * cij)
			}
			want[i*n+j], mag[i*n+j] = w, g
		}
	}
	return want, mag
}

// epsOf is the machine epsilon of T (2⁻²³ for float32, 2⁻⁵² for float64).
func epsOf[T float]() float64 {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return 0x1p-23
	}
	return 0x1p-52
}

// guardedMatrix returns a rows×cols matrix with stride cols+pad inside a
// buffer whose padding and surroundings hold NaN, filled with values from
// fill.
func guardedMatrix[T float](rows, cols, pad int, fill func() T) (Matrix[T], []T) {
	stride := cols + pad
	const guard = 7
	buf := make([]T, guard+rows*stride+guard)
	nan := T(math.NaN())
	for i := range buf {
		buf[i] = nan
	}
	m := Matrix[T]{Rows: rows, Cols: cols, Stride: stride}
	if rows > 0 {
		m.Data = buf[guard : guard+(rows-1)*stride+cols]
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m.Set(i, j, fill())
		}
	}
	return m, buf
}

type gemmCase struct {
	m, k, n     int
	tA, tB      bool
	alpha, beta float64
	pad         int
	nanC        bool // fill C with NaN (only with beta == 0)
}

func (c gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%dx%dx%d/%s%s/alpha=%g/beta=%g/pad=%d/nanC=%v", c.m, c.k, c.n, t(c.tA), t(c.tB), c.alpha, c.beta, c.pad, c.nanC)
}

// gemmCases is the conformance table: small shapes (0, 1, primes, around
// the tile sizes 6×16 and 6×8 and the kc/nc blocks) with every transpose
// combination and alpha/beta in {0, 1, -0.5, 2}, and the model shapes.
func gemmCases() []gemmCase {
	var cs []gemmCase
	small := [][3]int{
		{0, 0, 0}, {0, 3, 4}, {3, 0, 4}, {3, 4, 0}, {1, 1, 1}, {1, 7, 1}, {2, 3, 5},
		{5, 17, 15}, {6, 16, 16}, {6, 8, 8}, {7, 9, 17}, {12, 31, 32}, {13, 1, 33},
		{23, 37, 41}, {47, 3, 9}, {61, 67, 71}, {97, 101, 13}, {1, 300, 1}, {31, 521, 29},
		// Edge column panels of exactly and less than half a tile
		// (nr/2: 8 float32, 4 float64) for the half-width kernels.
		{7, 5, 12}, {13, 9, 20}, {25, 40, 24}, {6, 3, 4},
	}
	scal := []float64{0, 1, -0.5, 2}
	i := 0
	for _, s := range small {
		for tr := 0; tr < 4; tr++ {
			for _, al := range scal {
				for _, be := range scal {
					i++
					cs = append(cs, gemmCase{m: s[0], k: s[1], n: s[2], tA: tr&1 != 0, tB: tr&2 != 0,
						alpha: al, beta: be, pad: i % 4, nanC: be == 0 && i%3 == 0})
				}
			}
		}
	}
	// Blocking boundaries (k past kc, n past nc) and the parallel split.
	for tr := 0; tr < 4; tr++ {
		cs = append(cs,
			gemmCase{m: 131, k: 600, n: 150, tA: tr&1 != 0, tB: tr&2 != 0, alpha: -0.5, beta: 2, pad: 3},
			gemmCase{m: 530, k: 70, n: 77, tA: tr&1 != 0, tB: tr&2 != 0, alpha: 1, beta: 0, pad: 1, nanC: true},
			gemmCase{m: 140, k: 530, n: 36, tA: tr&1 != 0, tB: tr&2 != 0, alpha: 2, beta: -0.5, pad: 2},
		)
	}
	// k around the k blocks kc of both types (kc32 = 512, kc64 = 256 and
	// the halved 256, 128 of kcFor) and over several blocks, on shapes
	// whose B rows (NN, TN) are whole cache lines or not in each type
	// (ldb 24: float64 only; 28 neither; 64 both), with edge rows, paired
	// and single half-width tiles and partial edge panels.
	kcShapes := []struct{ m, n, pad int }{{25, 24, 3}, {13, 28, 3}, {7, 61, 2}}
	// alpha 1.5 and -0.75 are not powers of two: alpha·acc rounds, so a
	// different alpha/beta formula on some path shows.
	kcScal := [][2]float64{{1, 0}, {-0.5, 2}, {1.5, 1}, {-0.75, -0.5}, {2, 0}, {1.5, -0.75}}
	for _, k := range []int{127, 128, 129, 255, 256, 257, 511, 512, 513, 1030} {
		for si, sh := range kcShapes {
			for tr := 0; tr < 4; tr++ {
				for h := 0; h < 2; h++ {
					ab := kcScal[(2*(4*si+tr)+h)%len(kcScal)]
					cs = append(cs, gemmCase{m: sh.m, k: k, n: sh.n, tA: tr&1 != 0, tB: tr&2 != 0,
						alpha: ab[0], beta: ab[1], pad: sh.pad, nanC: ab[1] == 0})
				}
			}
		}
	}
	// Model shapes (two-layer net and linear classifier on CIFAR-10; the
	// two-layer net's at a batch of 50 rather than 200, to keep the
	// generic float32 runs, with their exact FMA emulation, short).
	cs = append(cs,
		gemmCase{m: 50, k: 3072, n: 200, alpha: 1, beta: 0, nanC: true},          // X·W1
		gemmCase{m: 3072, k: 50, n: 200, tA: true, alpha: 1, beta: 1},            // Xᵀ·dH
		gemmCase{m: 200, k: 200, n: 10, alpha: 1, beta: 0},                       // H·W2
		gemmCase{m: 200, k: 10, n: 200, tB: true, alpha: 1, beta: 0, nanC: true}, // dS·W2ᵀ
		gemmCase{m: 500, k: 3073, n: 10, alpha: 1, beta: 0, pad: 2},              // X·W (linear)
		gemmCase{m: 3073, k: 500, n: 10, tA: true, alpha: 2, beta: -0.5, pad: 1}, // Xᵀ·dS (linear)
	)
	return cs
}

func TestGemmConformance(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testGemmConformance[float32](t) })
	t.Run("f64", func(t *testing.T) { testGemmConformance[float64](t) })
}

func testGemmConformance[T float](t *testing.T) {
	eps := epsOf[T]()
	ims := genericFirst(impls())
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func() T { return T(rng.Float64()*2 - 1) }
	for _, tc := range gemmCases() {
		ar, ac := tc.m, tc.k
		if tc.tA {
			ar, ac = ac, ar
		}
		br, bc := tc.k, tc.n
		if tc.tB {
			br, bc = bc, br
		}
		a, abuf := guardedMatrix(ar, ac, tc.pad, fill)
		b, bbuf := guardedMatrix(br, bc, (tc.pad+1)%4, fill)
		c0, _ := guardedMatrix(tc.m, tc.n, tc.pad, fill)
		if tc.nanC {
			for i := 0; i < c0.Rows; i++ {
				for j := range c0.Row(i) {
					c0.Row(i)[j] = T(math.NaN())
				}
			}
		}
		alpha, beta := T(tc.alpha), T(tc.beta)
		want, mag := refGemm(tc.tA, tc.tB, alpha, a, b, beta, c0)
		aSave, bSave := append([]T(nil), abuf...), append([]T(nil), bbuf...)
		// Tolerance: the classical bound for a length-k dot product,
		// |fl(s) - s| <= γ_k·Σ|a·b| with γ_k <= k·eps, plus a few roundings
		// for alpha, beta and the blocked accumulation into C.
		tol := float64(tc.k+4) * eps
		var gen Matrix[T] // the result of native/isa=generic (ims[0])
		for _, im := range ims {
			c, cbuf := guardedMatrix(tc.m, tc.n, tc.pad, func() T { return 0 })
			for i := 0; i < c.Rows; i++ {
				copy(c.Row(i), c0.Row(i))
			}
			cSave := append([]T(nil), cbuf...)
			im.with(t, func() { Gemm(tc.tA, tc.tB, alpha, a, b, beta, c) })
			if im.backend == "native" {
				// The numerical contract: bit for bit the generic level's
				// result, whatever the ISA level, GOMAXPROCS or packing.
				if im.isa == kernels.Generic && im.procs == 0 && im.pack == 0 {
					gen = c
				} else if i, j, ok := sameMatrix(c, gen); !ok {
					t.Errorf("%s %v: C[%d,%d] = %v (%#x), native/isa=generic gives %v (%#x)",
						im.name, tc, i, j, c.At(i, j), bitsOf(c.At(i, j)), gen.At(i, j), bitsOf(gen.At(i, j)))
				}
			}
			bad := 0
			for i := 0; i < tc.m && bad < 3; i++ {
				for j := 0; j < tc.n && bad < 3; j++ {
					got := float64(c.At(i, j))
					w := want[i*tc.n+j]
					if !(math.Abs(got-w) <= tol*mag[i*tc.n+j]) {
						t.Errorf("%s %v: C[%d,%d] = %v, want %v (tol %.3g)", im.name, tc, i, j, got, w, tol*mag[i*tc.n+j])
						bad++
					}
				}
			}
			// Nothing outside C's view changed (padding keeps its NaN).
			for i := range cbuf {
				inView := false
				if c.Rows > 0 && c.Cols > 0 {
					off := i - 7
					inView = off >= 0 && off/c.Stride < c.Rows && off%c.Stride < c.Cols
				}
				if !inView && !sameBits(cbuf[i], cSave[i]) {
					t.Errorf("%s %v: C buffer[%d] outside the view changed to %v", im.name, tc, i, cbuf[i])
					break
				}
			}
			if !sameSlice(abuf, aSave) || !sameSlice(bbuf, bSave) {
				t.Errorf("%s %v: A or B modified", im.name, tc)
			}
		}
	}
}

// genericFirst returns ims with native/isa=generic (default packing and
// GOMAXPROCS) moved to the front: the reference of the bit-identity checks.
func genericFirst(ims []impl) []impl {
	out := make([]impl, 0, len(ims))
	for _, im := range ims {
		if im.backend == "native" && im.isa == kernels.Generic && im.procs == 0 && im.pack == 0 {
			out = append(out, im)
		}
	}
	if len(out) != 1 {
		panic("impls: want exactly one native/isa=generic")
	}
	for _, im := range ims {
		if !(im.backend == "native" && im.isa == kernels.Generic && im.procs == 0 && im.pack == 0) {
			out = append(out, im)
		}
	}
	return out
}

// sameMatrix reports whether x and y (of the same shape) hold the same
// bits, and else the first element that differs.
func sameMatrix[T float](x, y Matrix[T]) (i, j int, ok bool) {
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < x.Cols; j++ {
			if !sameBits(x.At(i, j), y.At(i, j)) {
				return i, j, false
			}
		}
	}
	return 0, 0, true
}

// bitsOf returns the IEEE 754 encoding of x.
func bitsOf[T float](x T) uint64 {
	if unsafe.Sizeof(x) == 4 {
		return uint64(math.Float32bits(float32(x)))
	}
	return math.Float64bits(float64(x))
}

func sameBits[T float](x, y T) bool {
	if unsafe.Sizeof(x) == 4 {
		return math.Float32bits(float32(x)) == math.Float32bits(float32(y))
	}
	return math.Float64bits(float64(x)) == math.Float64bits(float64(y))
}

func sameSlice[T float](x, y []T) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !sameBits(x[i], y[i]) {
			return false
		}
	}
	return true
}

// TestGemmGOMAXPROCS checks that the native backend's results are
// bit-identical for GOMAXPROCS 1, 2, 3 and 8 on every ISA level, and equal
// to the generic level's at GOMAXPROCS 1, on shapes the driver splits in
// parts (the shapes stay moderate: the generic float32 kernel's exact FMA
// emulation is slow).
func TestGemmGOMAXPROCS(t *testing.T) {
	t.Run("f32", func(t *testing.T) { testGOMAXPROCS[float32](t) })
	t.Run("f64", func(t *testing.T) { testGOMAXPROCS[float64](t) })
}

func testGOMAXPROCS[T float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func() T { return T(rng.NormFloat64()) }
	shapes := []gemmCase{
		// Several k blocks (kc halved in float32: ldb is 288 bytes).
		{m: 200, k: 1100, n: 72},
		{m: 1500, k: 130, n: 40, tA: true, beta: 1},
		{m: 613, k: 300, n: 41, tB: true, beta: -0.5},
		{m: 1100, k: 130, n: 50, tA: true, tB: true},
		// B packed in one part, read in place in parts (m >= 512 rows,
		// k past kc), and a half-width last panel under a column split.
		{m: 700, k: 600, n: 40},
		{m: 30, k: 700, n: 328},
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer kernels.SetISA(kernels.ISA())
	for _, s := range shapes {
		ar, ac := s.m, s.k
		if s.tA {
			ar, ac = ac, ar
		}
		br, bc := s.k, s.n
		if s.tB {
			br, bc = bc, br
		}
		a, _ := guardedMatrix(ar, ac, 1, fill)
		b, _ := guardedMatrix(br, bc, 0, fill)
		c0, _ := guardedMatrix(s.m, s.n, 0, fill)
		var ref Matrix[T]
		levels := kernels.Levels()
		slices.Reverse(levels) // generic first
		for _, l := range levels {
			kernels.SetISA(l)
			for _, procs := range []int{1, 2, 3, 8} {
				runtime.GOMAXPROCS(procs)
				c := c0.Clone()
				Gemm(s.tA, s.tB, 1.5, a, b, T(s.beta), c)
				if ref.Data == nil {
					ref = c
					continue
				}
				if i, j, ok := sameMatrix(c, ref); !ok {
					t.Errorf("isa=%s %v GOMAXPROCS=%d: C[%d,%d] = %v, isa=generic at GOMAXPROCS=1 gives %v",
						l, s, procs, i, j, c.At(i, j), ref.At(i, j))
				}
			}
		}
	}
}

// TestGemmAllocs checks that steady-state native calls do not allocate.
func TestGemmAllocs(t *testing.T) {
	for _, sh := range [][3]int{{120, 500, 100}, {200, 200, 10}, {37, 19, 23}} {
		a := NewMatrix[float32](sh[0], sh[1])
		b := NewMatrix[float32](sh[1], sh[2])
		c := NewMatrix[float32](sh[0], sh[2])
		Gemm(false, false, 1, a, b, 0, c)
		if n := testing.AllocsPerRun(10, func() { Gemm(false, false, 1, a, b, 0, c) }); n != 0 {
			t.Errorf("f32 %v: %v allocations per call", sh, n)
		}
		ad, bd, cd := NewMatrix[float64](sh[0], sh[1]), NewMatrix[float64](sh[1], sh[2]), NewMatrix[float64](sh[0], sh[2])
		Gemm(true, true, 1, FromSlice(sh[1], sh[0], ad.Data), FromSlice(sh[2], sh[1], bd.Data), 0.5, cd)
		if n := testing.AllocsPerRun(10, func() {
			Gemm(true, true, 1, FromSlice(sh[1], sh[0], ad.Data), FromSlice(sh[2], sh[1], bd.Data), 0.5, cd)
		}); n != 0 {
			t.Errorf("f64 TT %v: %v allocations per call", sh, n)
		}
	}
}

func TestGemmPanics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       func()
		wantSub string
	}{
		{"inner", func() {
			Gemm(false, false, 1, NewMatrix[float32](2, 3), NewMatrix[float32](4, 5), 0, NewMatrix[float32](2, 5))
		}, "op(A) 2×3"},
		{"C", func() {
			Gemm(true, false, 1, NewMatrix[float64](3, 2), NewMatrix[float64](3, 5), 0, NewMatrix[float64](2, 4))
		}, "C 2×4"},
		{"stride", func() {
			Gemm(false, false, 1, Matrix[float32]{Rows: 2, Cols: 3, Stride: 2, Data: make([]float32, 6)}, NewMatrix[float32](3, 1), 0, NewMatrix[float32](2, 1))
		}, "A: stride 2 < cols 3"},
		{"short", func() {
			Gemm(false, false, 1, NewMatrix[float32](2, 3), NewMatrix[float32](3, 1), 0, Matrix[float32]{Rows: 2, Cols: 1, Stride: 1, Data: make([]float32, 1)})
		}, "C: len(Data)=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if s := fmt.Sprint(r); !strings.Contains(s, tc.wantSub) || !strings.HasPrefix(s, "blas.Gemm") {
					t.Fatalf("panic %q, want it to contain %q", s, tc.wantSub)
				}
			}()
			tc.f()
		})
	}
}

func TestBackendSwitch(t *testing.T) {
	if os.Getenv("NNKERN_BLAS") == "" && Current() != "native" {
		t.Fatalf("default backend %q, want native", Current())
	}
	defer Use(Current())
	bs := Backends()
	if !strings.Contains(strings.Join(bs, ","), "gonum") || !strings.Contains(strings.Join(bs, ","), "native") {
		t.Fatalf("Backends() = %v, want gonum and native", bs)
	}
	err := Use("cublas")
	if err == nil || !strings.Contains(err.Error(), `"cublas"`) {
		t.Fatalf("Use(cublas) = %v, want an error naming it", err)
	}
	if err := Use("native"); err != nil {
		t.Fatal(err)
	}
	if err := Use("cublas"); err == nil || Current() != "native" {
		t.Fatalf("failed Use changed the backend to %q", Current())
	}
	if err := Use(" Gonum "); err != nil || Current() != "gonum" {
		t.Fatalf("Use(gonum): %v, Current %q", err, Current())
	}
	if err := Use("native"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NNKERN_BLAS", "nope")
	applyEnv()
	if err := EnvError(); err == nil || !strings.Contains(err.Error(), "NNKERN_BLAS") {
		t.Errorf("EnvError() = %v after NNKERN_BLAS=nope", err)
	}
	t.Setenv("NNKERN_BLAS", "gonum")
	envErr = nil
	applyEnv()
	if EnvError() != nil || Current() != "gonum" {
		t.Errorf("NNKERN_BLAS=gonum: err %v, current %q", EnvError(), Current())
	}
	envErr = nil
	if err := Use("native"); err != nil {
		t.Fatal(err)
	}
}

// TestGemmSpecialValues checks that a NaN or Inf in op(A) reaches exactly
// its row of C (and one in op(B) exactly its column), on every
// implementation: zero padding of edge tiles must not leak into, or hide,
// special values.
func TestGemmSpecialValues(t *testing.T) {
	const m, k, n = 13, 300, 37
	for _, im := range impls() {
		for tr := 0; tr < 4; tr++ {
			tA, tB := tr&1 != 0, tr&2 != 0
			a := NewMatrix[float32](m, k)
			if tA {
				a = NewMatrix[float32](k, m)
			}
			b := NewMatrix[float32](k, n)
			if tB {
				b = NewMatrix[float32](n, k)
			}
			for i := range a.Data {
				a.Data[i] = 1
			}
			for i := range b.Data {
				b.Data[i] = 0.5
			}
			const badRow, badCol, p = 12, 36, 257
			if tA {
				a.Set(p, badRow, float32(math.NaN()))
			} else {
				a.Set(badRow, p, float32(math.NaN()))
			}
			if tB {
				b.Set(badCol, p+1, float32(math.Inf(1)))
			} else {
				b.Set(p+1, badCol, float32(math.Inf(1)))
			}
			c := NewMatrix[float32](m, n)
			im.with(t, func() { Gemm(tA, tB, 1, a, b, 0, c) })
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					v := float64(c.At(i, j))
					switch {
					case i == badRow:
						if !math.IsNaN(v) {
							t.Errorf("%s tA=%v tB=%v: C[%d,%d] = %v, want NaN", im.name, tA, tB, i, j, v)
						}
					case j == badCol:
						if !math.IsInf(v, 1) {
							t.Errorf("%s tA=%v tB=%v: C[%d,%d] = %v, want +Inf", im.name, tA, tB, i, j, v)
						}
					default:
						if v != 0.5*k {
							t.Errorf("%s tA=%v tB=%v: C[%d,%d] = %v, want %v", im.name, tA, tB, i, j, v, 0.5*k)
						}
					}
				}
			}
		}
	}
}

// TestGemmAllocsParallel: testing.AllocsPerRun runs at GOMAXPROCS 1, so
// TestGemmAllocs never reaches the parallel path; here the process-wide
// malloc count is read around calls that split over 2 and 3 goroutines.
// Steady state must not allocate per call (worker goroutines, jobs and
// packing buffers are pooled): one allocation per call would count at
// least 2·calls here. What is tolerated (up to calls/2) is the runtime's
// own, a sudog made when the caller parks on the pool.Group step's done
// channel or a worker on the pool's queue after a GC cycle emptied the
// sudog caches, and a packing workspace made when more parts than ever
// before run at once (memory profile; seen: 0–16 in 40 pairs at
// GOMAXPROCS 3 on 2 cores over 10 runs).
//
// The shapes are small (in purego builds every call runs the slow generic
// kernel) but split in 2 or 3 parts by rows, of equal sizes (132 row
// panels).
func TestGemmAllocsParallel(t *testing.T) {
	a, b, c := NewMatrix[float32](792, 140), NewMatrix[float32](140, 30), NewMatrix[float32](792, 30)
	ad, bd, cd := NewMatrix[float64](792, 130), NewMatrix[float64](130, 40), NewMatrix[float64](792, 40)
	const calls = 40
	allocstest.CheckParallel(t, "pairs of parallel Gemm", []int{2, 3}, 10, calls, calls/2, func() {
		Gemm(false, false, 1, a, b, 0, c)
		Gemm(false, false, 1, ad, bd, 0.5, cd)
	})
}

// TestGemmInsidePoolTasks runs parallel-sized Gemms from the tasks of a
// pool.Group step (as the softmax loss does for many classes), so the
// Gemms' own steps nest in the outer one on the same workers: every
// result must equal the one computed alone, bit for bit, and nothing may
// deadlock, with polling and with sleeping workers.
func TestGemmInsidePoolTasks(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	fill := func() float64 { return rng.NormFloat64() }
	const jobs = 5
	a, _ := guardedMatrix(100, 300, 0, fill) // 2·100·300·70 flops: split in 2 parts
	bs := make([]Matrix[float64], jobs)
	want := make([]Matrix[float64], jobs)
	for i := range bs {
		bs[i], _ = guardedMatrix(300, 70, 0, fill)
		want[i] = NewMatrix[float64](100, 70)
		Gemm(false, false, 1, a, bs[i], 0, want[i])
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		old := pool.SetSpinWait(spin)
		for _, procs := range []int{2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			got := make([]Matrix[float64], jobs)
			for i := range got {
				got[i] = NewMatrix[float64](100, 70)
			}
			var g pool.Group
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range 10 {
					g.Run(jobs, func(i int) { Gemm(false, false, 1, a, bs[i], 0, got[i]) })
				}
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("spin %v GOMAXPROCS=%d: Gemms inside pool tasks did not finish in 30 s", spin, procs)
			}
			for i := range got {
				if !sameSlice(got[i].Data, want[i].Data) {
					t.Fatalf("spin %v GOMAXPROCS=%d: Gemm %d inside a pool task differs from the same Gemm alone", spin, procs, i)
				}
			}
		}
		pool.SetSpinWait(old)
	}
}
