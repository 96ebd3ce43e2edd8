package bench

import (
	"sort"

	"github.com/nnkern/nnkern/bench/internal/openblascore"
	"github.com/nnkern/nnkern/blas"
	"github.com/nnkern/nnkern/kernels"
)

// gemmBackend is one way to run blas.Gemm: a blas backend, for native at a
// given kernels ISA level.
type gemmBackend struct {
	name  string
	level kernels.Level // forced level (native) or CurrentLevel
	// slowFLOPs marks larger shapes Slow (run only when --filter names
	// them): backends that take seconds per 2048³ product.
	slowFLOPs float64
	// isa names what the backend dispatched (nil: kernels.ISA()).
	isa     func() string
	compare []string
}

// useBackend switches blas.Gemm to name and returns the restore.
func useBackend(name string) (func(), error) {
	prev := blas.Current()
	if err := blas.Use(name); err != nil {
		return nil, err
	}
	return func() { _ = blas.Use(prev) }, nil
}

// gemmBackends lists the blas backends compiled in: native once per ISA
// level (its micro-kernel follows kernels.ISA()), gonum (pure Go with
// gonum's SSE2 level-1 assembly inside) and openblas in builds with the
// openblas tag.
func gemmBackends() []gemmBackend {
	var bs []gemmBackend
	names := blas.Backends()
	order := map[string]int{"native": 0, "openblas": 1, "gonum": 2}
	sort.SliceStable(names, func(i, j int) bool { return rank(order, names[i]) < rank(order, names[j]) })
	for _, name := range names {
		switch name {
		case "native":
			for _, l := range kernels.Levels() {
				b := gemmBackend{name: name, level: l, compare: []string{"gonum", "openblas"}}
				if l == kernels.Generic {
					b.slowFLOPs = 1e8 // the Go micro-kernel: ~0.5 GFLOP/s
				} else {
					b.compare = append(b.compare, "native/generic")
				}
				bs = append(bs, b)
			}
		case "gonum":
			bs = append(bs, gemmBackend{name: name, level: CurrentLevel, slowFLOPs: 1e9,
				isa: func() string { return "sse2" }})
		case "openblas":
			bs = append(bs, gemmBackend{name: name, level: CurrentLevel, compare: []string{"gonum"},
				isa: func() string {
					if n := openblascore.Name(); n != "" {
						return n
					}
					return "openblas"
				}})
		default:
			bs = append(bs, gemmBackend{name: name, level: CurrentLevel})
		}
	}
	return bs
}

func rank(order map[string]int, s string) int {
	if r, ok := order[s]; ok {
		return r
	}
	return len(order)
}
