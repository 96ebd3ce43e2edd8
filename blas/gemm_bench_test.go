package blas

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/nnkern/nnkern/kernels"
)

// benchShape is one benchmarked product: op(A) is m×k, op(B) k×n.
type benchShape struct {
	tA      bool
	m, k, n int
	big     bool // skipped for gonum (seconds per call)
}

var benchShapes = []benchShape{
	{m: 200, k: 3072, n: 200},              // X·W1 (two-layer forward)
	{tA: true, m: 3072, k: 200, n: 200},    // Xᵀ·dH (dW1)
	{m: 200, k: 200, n: 10},                // H·W2
	{m: 200, k: 10, n: 200},                // rank-10 product (dS·W2ᵀ shape)
	{m: 500, k: 3073, n: 10},               // X·W (linear classifier)
	{tA: true, m: 3073, k: 500, n: 10},     // Xᵀ·dS (linear dW)
	{m: 2048, k: 2048, n: 2048, big: true}, // peak-efficiency probe
}

// BenchmarkGemm reports GFLOP/s (2·m·n·k per call) as
//
//	BenchmarkGemm/OP/DTYPE/BACKEND/isa=ISA/threads=T/MxKxN[-T]
//
// (e.g. BenchmarkGemm/NN/f32/native/isa=avx2/threads=2/200x3072x200-2),
// the name `nnkern bench --benchstat` gives the same product, so benchstat
// compares the two. ISA is the level the kernels dispatch to for native
// (NNKERN_ISA selects another), sse2 for gonum (its level-1 assembly) and
// openblas for OpenBLAS; T is GOMAXPROCS (set GOMAXPROCS=T, not a -cpu
// list: the names are made before -cpu applies), which go test also
// appends as the -T suffix when it is not 1. It also reports GFLOP per
// CPU-second of the process (user+system, all threads), which time slicing
// on a shared machine disturbs much less than wall time; on one core it
// estimates the rate the code would reach alone.
func BenchmarkGemm(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	// The names are fixed before go test applies -cpu: a -cpu list other
	// than GOMAXPROCS would make threads= lie.
	if f := flag.Lookup("test.cpu"); f != nil && f.Value.String() != "" && f.Value.String() != strconv.Itoa(procs) {
		b.Fatalf("BenchmarkGemm names its thread count from GOMAXPROCS (%d): set GOMAXPROCS=T instead of -cpu %s", procs, f.Value)
	}
	for _, op := range []string{"NN", "TN"} {
		b.Run(op, func(b *testing.B) {
			b.Run("f32", func(b *testing.B) { benchGemm[float32](b, op, procs) })
			b.Run("f64", func(b *testing.B) { benchGemm[float64](b, op, procs) })
		})
	}
}

func (s benchShape) op() string {
	if s.tA {
		return "TN"
	}
	return "NN"
}

// benchISA names what a backend runs as nnkern bench's rows do.
func benchISA(backend string) string {
	switch backend {
	case "native":
		return kernels.ISA().String()
	case "gonum":
		return "sse2"
	}
	return backend
}

func benchGemm[T float](b *testing.B, op string, procs int) {
	for _, be := range Backends() {
		b.Run(fmt.Sprintf("%s/isa=%s/threads=%d", be, benchISA(be), procs), func(b *testing.B) {
			for _, s := range benchShapes {
				if s.op() == op && !(s.big && be == "gonum") {
					benchGemmShape[T](b, be, s)
				}
			}
		})
	}
}

func benchGemmShape[T float](b *testing.B, be string, s benchShape) {
	name := fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n)
	b.Run(name, func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		ar, ac := s.m, s.k
		if s.tA {
			ar, ac = ac, ar
		}
		a := NewMatrix[T](ar, ac)
		for i := range a.Data {
			a.Data[i] = T(rng.Float64() - 0.5)
		}
		bm := NewMatrix[T](s.k, s.n)
		for i := range bm.Data {
			bm.Data[i] = T(rng.Float64() - 0.5)
		}
		c := NewMatrix[T](s.m, s.n)
		prev := Current()
		if err := Use(be); err != nil {
			b.Fatal(err)
		}
		defer Use(prev)
		Gemm(s.tA, false, 1, a, bm, 0, c)
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			Gemm(s.tA, false, 1, a, bm, 0, c)
		}
		cpu := cpuTime() - cpu0
		flop := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
		b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		if cpu > 0 {
			b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/cpu-s")
		}
	})
}
