package kernels

import (
	"github.com/nnkern/nnkern/internal/skiplog"

	"fmt"
	"math"
	"os"
	"testing"
	"time"
)

// TestRatios measures the speed-up ratios with both sides
// interleaved in short bursts, keeping each side's fastest burst: on a
// shared, loaded machine this exposes both sides to the same contention and
// estimates their uncontended speed. It prints the table that is in the
// package documentation. Run with NNKERN_RATIOS=1 go test -run TestRatios -v.
func TestRatios(t *testing.T) {
	if os.Getenv("NNKERN_RATIOS") != "1" {
		skiplog.Skip(t, "kernel speed ratios", "opt-in: NNKERN_RATIOS=1")
	}
	type side struct {
		name string
		f    func()
	}
	type ratio struct {
		what   string
		n      float64 // elements per call
		a, b   side    // fast, baseline
		target float64
	}
	x32, y32 := benchVec[float32](3072, -1, 1), benchVec[float32](3072, -1, 1)
	x64, y64 := benchVec[float64](3072, -1, 1), benchVec[float64](3072, -1, 1)
	e32, d32 := benchVec[float32](4096, -80, 0), make([]float32, 4096)
	e64, d64 := benchVec[float64](4096, -700, 0), make([]float64, 4096)
	s32, ds32 := benchVec[float32](2000, -5, 5), make([]float32, 2000)
	s64, ds64 := benchVec[float64](2000, -5, 5), make([]float64, 2000)
	lab := make([]int, 200)
	for i := range lab {
		lab[i] = (i * 7) % 10
	}
	at := func(l Level, f func()) func() {
		return func() {
			defer SetISA(l)()
			f()
		}
	}
	var sink float64
	rs := []ratio{
		{"Dot f32 n=3072", 3072, side{"avx2", at(AVX2, func() { sink += float64(Dot(x32, y32)) })}, side{"generic", at(Generic, func() { sink += float64(Dot(x32, y32)) })}, 8},
		{"Dot f64 n=3072", 3072, side{"avx2", at(AVX2, func() { sink += Dot(x64, y64) })}, side{"generic", at(Generic, func() { sink += Dot(x64, y64) })}, 4},
		{"Axpy f32 n=3072", 3072, side{"avx2", at(AVX2, func() { Axpy(1e-9, x32, y32) })}, side{"generic", at(Generic, func() { Axpy(1e-9, x32, y32) })}, 8},
		{"Axpy f64 n=3072", 3072, side{"avx2", at(AVX2, func() { Axpy(1e-9, x64, y64) })}, side{"generic", at(Generic, func() { Axpy(1e-9, x64, y64) })}, 4},
		{"Exp f32 n=4096", 4096, side{"avx2", at(AVX2, func() { Exp(d32, e32) })}, side{"float32(math.Exp(float64(x)))", func() {
			for i, v := range e32 {
				d32[i] = float32(math.Exp(float64(v)))
			}
		}}, 10},
		{"Exp f64 n=4096", 4096, side{"avx2", at(AVX2, func() { Exp(d64, e64) })}, side{"math.Exp", func() {
			for i, v := range e64 {
				d64[i] = math.Exp(v)
			}
		}}, 5},
		{"SoftmaxCERows f32 200x10", 2000, side{"avx2", at(AVX2, func() { sink += SoftmaxCERows(ds32, s32, 200, 10, 10, lab, 1.0/200) })}, side{"generic", at(Generic, func() { sink += SoftmaxCERows(ds32, s32, 200, 10, 10, lab, 1.0/200) })}, 5},
		{"SoftmaxCERows f64 200x10", 2000, side{"avx2", at(AVX2, func() { sink += SoftmaxCERows(ds64, s64, 200, 10, 10, lab, 1.0/200) })}, side{"generic", at(Generic, func() { sink += SoftmaxCERows(ds64, s64, 200, 10, 10, lab, 1.0/200) })}, 5},
	}
	if Detected() < AVX2 {
		skiplog.Skip(t, "kernel speed ratios", "this CPU lacks AVX2")
	}
	// best returns the fastest ns per call over bursts of about 2ms.
	burst := func(f func(), reps int) float64 {
		start := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		return float64(time.Since(start).Nanoseconds()) / float64(reps)
	}
	calib := func(f func()) int {
		reps := 1
		for {
			start := time.Now()
			for i := 0; i < reps; i++ {
				f()
			}
			if time.Since(start) > 2*time.Millisecond {
				return reps
			}
			reps *= 2
		}
	}
	fmt.Printf("| kernel | fast side | ns/call | baseline | ns/call | ratio | issue target |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		ra, rb := calib(r.a.f), calib(r.b.f)
		ba, bb := math.Inf(1), math.Inf(1)
		for k := 0; k < 40; k++ {
			ba = math.Min(ba, burst(r.a.f, ra))
			bb = math.Min(bb, burst(r.b.f, rb))
		}
		fmt.Printf("| %s | %s | %.0f | %s | %.0f | %.1f× | ≥%g× |\n", r.what, r.a.name, ba, r.b.name, bb, bb/ba, r.target)
	}
	_ = sink
}
