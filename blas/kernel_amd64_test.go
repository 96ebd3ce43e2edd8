//go:build amd64 && gc && !purego

package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nnkern/nnkern/internal/asmcheck"
	"github.com/nnkern/nnkern/internal/skiplog"
	"github.com/nnkern/nnkern/kernels"
)

// TestMicroKernelAVX2 checks the AVX2 and (on a CPU that has it) AVX-512
// micro-kernels directly, bit for bit
// against the portable Go kernel (the numerical contract: one fused
// accumulator per element, p in order, the same alpha/beta update) and
// against a float64-accumulated reference, around the k values where the
// k loop changes shape: k%4 tails, and k >= 256 with a packed B (csB =
// nr), where the kernel prefetches the next B micro-panel (the prefetch
// reads past the panel, which must not change results), against B read
// in place (csB > nr). A is packed (rsA = 1, csA = mr) or row-major (rsA
// = k + 3), 1, 2, 3 or 5 tiles per call (the half-width kernels run tiles
// in pairs, then an odd last one alone), C with a wider stride, loadC on
// and off, alpha and beta not 1. Tolerance: |got - want| <=
// 4·k·eps·(|alpha|·Σ|a||b| + |beta·c|), the usual forward bound for a
// k-term dot product (with FMA, fewer roundings than that).
func TestMicroKernelAVX2(t *testing.T) {
	if kernels.Detected() < kernels.AVX2 {
		skiplog.Skip(t, "isa=avx2 subtests", "this CPU lacks AVX2+FMA: the assembly micro-kernels cannot run")
	}
	for _, lvl := range []kernels.Level{kernels.AVX2, kernels.AVX512} {
		t.Run("isa="+lvl.String(), func(t *testing.T) {
			if kernels.Detected() < lvl {
				skiplog.Skipf(t, "isa="+lvl.String()+" subtests", "this CPU lacks it (detected %v)", kernels.Detected())
			}
			t.Run("f32", func(t *testing.T) { testMicroKernel[float32](t, lvl) })
			t.Run("f64", func(t *testing.T) { testMicroKernel[float64](t, lvl) })
		})
	}
}

func testMicroKernel[T float](t *testing.T, lvl kernels.Level) {
	rng := rand.New(rand.NewPCG(5, 6))
	eps := epsOf[T]()
	for _, half := range []bool{false, true} {
		kern := microKernel[T](lvl, half)
		nr := nrOf[T]() * widthAt(lvl)
		if half {
			nr /= 2
		}
		// The Go kernel on tiles of the same width.
		goKern := func(k int, a []T, rsA, csA int, b []T, csB int, c []T, ldc, tiles, aNext int, alpha, beta T, loadC bool) {
			for t := 0; t < tiles; t++ {
				kernelGo1(nr, k, a[t*aNext:], rsA, csA, b, csB, c[t*mr*ldc:], ldc, alpha, beta, loadC)
			}
		}
		for ki, k := range []int{1, 3, 4, 5, 252, 253, 255, 256, 257, 258, 259, 260, 263, 300, 301, 517} {
			for _, packedB := range []bool{true, false} {
				for _, packedA := range []bool{true, false} {
					for _, loadC := range []bool{true, false} {
						tiles := []int{3, 2, 1, 5}[ki%4]
						csB := nr
						if !packedB {
							csB = nr + 5
						}
						rsA, csA, aNext := 1, mr, mr*k
						if !packedA {
							rsA, csA, aNext = k+3, 1, mr*(k+3)
						}
						ldc := nr + 2
						a := make([]T, (tiles-1)*aNext+(mr-1)*rsA+(k-1)*csA+1)
						b := make([]T, (k-1)*csB+nr)
						for i := range a {
							a[i] = T(rng.Float64() - 0.5)
						}
						for i := range b {
							b[i] = T(rng.Float64() - 0.5)
						}
						c := make([]T, (tiles*mr-1)*ldc+nr)
						for i := range c {
							c[i] = T(rng.Float64() - 0.5)
						}
						c0 := append([]T(nil), c...)
						alpha, beta := T(1.5), T(-0.75)
						kern(k, a, rsA, csA, b, csB, c, ldc, tiles, aNext, alpha, beta, loadC)
						name := fmt.Sprintf("half=%v k=%d tiles=%d packedB=%v packedA=%v loadC=%v", half, k, tiles, packedB, packedA, loadC)
						cGo := append([]T(nil), c0...)
						goKern(k, a, rsA, csA, b, csB, cGo, ldc, tiles, aNext, alpha, beta, loadC)
						for idx := range c {
							if !sameBits(c[idx], cGo[idx]) {
								t.Errorf("%s: C[%d] (row %d, col %d) = %v (%#x), the Go kernel gives %v (%#x)",
									name, idx, idx/ldc, idx%ldc, c[idx], bitsOf(c[idx]), cGo[idx], bitsOf(cGo[idx]))
								break
							}
						}
						bad := 0
						for tt := 0; tt < tiles; tt++ {
							for i := 0; i < mr; i++ {
								for j := 0; j < ldc; j++ {
									idx := (tt*mr+i)*ldc + j
									if idx >= len(c) {
										continue
									}
									if j >= nr {
										// Between rows: must be untouched.
										if c[idx] != c0[idx] {
											t.Errorf("%s: tile %d row %d col %d outside the tile written", name, tt, i, j)
										}
										continue
									}
									var s, mag float64
									for p := 0; p < k; p++ {
										x := float64(a[tt*aNext+i*rsA+p*csA]) * float64(b[p*csB+j])
										s += x
										mag += math.Abs(x)
									}
									want := float64(alpha) * s
									bound := math.Abs(float64(alpha)) * mag
									if loadC {
										want += float64(beta) * float64(c0[idx])
										bound += math.Abs(float64(beta) * float64(c0[idx]))
									}
									if d := math.Abs(float64(c[idx]) - want); !(d <= 4*float64(k)*eps*bound) && bad < 3 {
										bad++
										t.Errorf("%s: tile %d C[%d,%d] = %v, want %v (|diff| %.3g > bound %.3g)",
											name, tt, i, j, c[idx], want, d, 4*float64(k)*eps*bound)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestAsmRequires: the AVX2 micro-kernels need only the AVX2 level's
// features, the AVX-512 ones (…AVX512…) only F/DQ/BW/VL on top, and use
// them. It reads the .s file, so it runs on any machine.
func TestAsmRequires(t *testing.T) {
	req, err := asmcheck.Requires(".")
	if err != nil {
		t.Fatal(err)
	}
	// The AVX-512 kernels are named gemmKernelAVX512F32… (the level in
	// the middle): asmcheck wants the level as a suffix.
	named := map[string][]string{}
	for fn, feats := range req {
		if strings.Contains(fn, "AVX512") {
			fn += "AVX512"
		}
		named[fn] = feats
	}
	for _, e := range asmcheck.Check(named) {
		t.Error(e)
	}
}
