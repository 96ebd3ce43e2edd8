package blas

import (
	"math"
	"os"
	"testing"
)

// TestKCFixed checks that kc, which fixes the order in which every element
// of C is summed, is a constant per element type: the blocking derived
// from any cache sizes has it, and the per-call choice (kcFor) follows the
// shape and strides only, not the packing switches the tests and
// benchmarks turn. Changing kc32 or kc64 changes the rounding of results,
// so the values are pinned here.
func TestKCFixed(t *testing.T) {
	if kc32 != 512 || kc64 != 256 {
		t.Fatalf("kc32, kc64 = %d, %d: want 512, 256 (a new kc changes every result's rounding)", kc32, kc64)
	}
	for _, l2 := range []int{256 << 10, 512 << 10, 1 << 20, 2 << 20, 32 << 20} {
		for _, l3 := range []int{2 << 20, 8 << 20, 32 << 20, 512 << 20} {
			if b := computeBlocking(l2, l3, 4, 16); b.kc != kc32 || b.mc < mr || b.mc%mr != 0 || b.nc < 16 || b.nc%16 != 0 {
				t.Errorf("float32 blocking for L2 %d, L3 %d: %+v, want kc %d, mc and nc whole tiles", l2, l3, b, kc32)
			}
			if b := computeBlocking(l2, l3, 8, 8); b.kc != kc64 || b.mc < mr || b.mc%mr != 0 || b.nc < 8 || b.nc%8 != 0 {
				t.Errorf("float64 blocking for L2 %d, L3 %d: %+v, want kc %d, mc and nc whole tiles", l2, l3, b, kc64)
			}
		}
	}
	if os.Getenv("NNKERN_TUNE_KC") == "" && os.Getenv("NNKERN_TUNE_KC64") == "" {
		if block32.kc != kc32 || block64.kc != kc64 {
			t.Errorf("this machine's blocking has kc %d (float32), %d (float64), want %d, %d", block32.kc, block64.kc, kc32, kc64)
		}
	}

	type call struct {
		tB     bool
		m, ldb int
		kc     [2]int // float32, float64
	}
	calls := []call{
		{false, 200, 200, [2]int{256, 256}},  // 800 / 1600 bytes: 12.5 / 25 lines
		{false, 200, 208, [2]int{512, 256}},  // whole lines in both
		{false, 200, 100, [2]int{256, 128}},  // 6.25 / 12.5 lines
		{false, 511, 201, [2]int{256, 128}},  // below halfKCRows
		{false, 512, 201, [2]int{512, 256}},  // op(B) packed: full depth
		{false, 3072, 200, [2]int{512, 256}}, //
		{true, 200, 201, [2]int{512, 256}},   // transposed B is packed
	}
	pb, pa, pt, sp := tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit
	defer func() { tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit = pb, pa, pt, sp }()
	for _, tune := range [][4]int{{pb, pa, pt, sp}, {0, 0, 0, 2}, {math.MaxInt, math.MaxInt, math.MaxInt, 1}} {
		tunePackBRows, tunePackACols, tunePackAColsTN, tuneSplit = tune[0], tune[1], tune[2], tune[3]
		for _, c := range calls {
			if os.Getenv("NNKERN_TUNE_KC") != "" || os.Getenv("NNKERN_TUNE_KC64") != "" {
				break
			}
			if got := kcFor[float32](c.tB, c.m, c.ldb); got != c.kc[0] {
				t.Errorf("tune %v: float32 kcFor(tB=%v, m=%d, ldb=%d) = %d, want %d", tune, c.tB, c.m, c.ldb, got, c.kc[0])
			}
			if got := kcFor[float64](c.tB, c.m, c.ldb); got != c.kc[1] {
				t.Errorf("tune %v: float64 kcFor(tB=%v, m=%d, ldb=%d) = %d, want %d", tune, c.tB, c.m, c.ldb, got, c.kc[1])
			}
		}
	}
}

// packATransposed, with wide moves or element by element, against the
// definition: panel q holds op(A)[ic+q·mr+r, pc+p] at p·mr+r, for blocks
// of A that start anywhere (odd lda, ic, pc) and partial kcb.
func TestPackATransposed(t *testing.T) {
	testPackATransposed[float32](t)
	testPackATransposed[float64](t)
}

func testPackATransposed[T float](t *testing.T) {
	for _, sh := range []struct{ lda, ic, full, pc, kcb int }{
		{6, 0, 6, 0, 1}, {13, 1, 12, 2, 5}, {3073, 7, 252, 3, 200}, {97, 90, 6, 0, 33},
	} {
		a := make([]T, (sh.pc+sh.kcb)*sh.lda)
		for i := range a {
			a[i] = T(i + 1)
		}
		for name, pack := range map[string]func(dst, a []T, lda, ic, full, pc, kcb int){
			"wide": packATransposed[T], "elems": packATransposedElems[T],
		} {
			dst := make([]T, sh.full*sh.kcb+3)
			dst[len(dst)-1] = -1
			pack(dst, a, sh.lda, sh.ic, sh.full, sh.pc, sh.kcb)
			for q := 0; q < sh.full; q += mr {
				for p := 0; p < sh.kcb; p++ {
					for r := 0; r < mr; r++ {
						want := a[(sh.pc+p)*sh.lda+sh.ic+q+r]
						if got := dst[q*sh.kcb+p*mr+r]; got != want {
							t.Fatalf("%s %+v: panel %d (p=%d, r=%d) = %v, want %v", name, sh, q/mr, p, r, got, want)
						}
					}
				}
			}
			if dst[len(dst)-1] != -1 {
				t.Fatalf("%s %+v: wrote past the block", name, sh)
			}
		}
	}
}
