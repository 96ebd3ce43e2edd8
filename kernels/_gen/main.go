// Command _gen generates nnkern's SIMD kernels with avo, once for AVX2+FMA
// (YMM registers) and once for AVX-512 F/DQ/BW/VL (ZMM registers), from the
// same templates.
//
// It is run by `go generate` in package kernels, once per kernel family:
//
//	cd _gen && go run . -family level1 -out ../level1_amd64.s -stubs ../level1_stub_amd64.go -pkg kernels
//
// Every kernel is written once against a type descriptor ft: the element
// type (float32 or float64) and the vector width (vw: AVX2 or AVX-512),
// which gives the lanes per register. Block sizes, the order of partial
// sums (package canon), unrolling and tails are decided here in Go, for
// both widths alike, so the AVX2 build and its tests exercise the logic
// the AVX-512 code is emitted from. Loops have a main part unrolled over
// several registers, a one-register part, and a masked tail, so no kernel
// reads or writes outside its slices. The AVX-512-only parts are the masks
// (vmask: a K register instead of a vector of all-ones lanes, see
// mask.go) and the wider horizontal reduction (hreduce).
//
// Files: shared.go (ft, vw, constants, the loop, accumulators and
// reductions), mask.go (tails and masks), and one file per family:
// level1.go, act.go with u8.go, exp.go with rows.go (the softmax and hinge
// row kernels, emitted with exp).
package main

import (
	"flag"
	"log"

	. "github.com/mmcloughlin/avo/build"
)

var family = flag.String("family", "", "kernel family to generate: level1 (level1.go), act (act.go, u8.go) or exp (exp.go, rows.go)")

func main() {
	flag.Parse()
	ConstraintExpr("amd64,gc,!purego")
	switch *family {
	case "level1":
		for _, w := range widths {
			genLevel1(w)
		}
	case "act":
		prefetchKernel()
		for _, w := range widths {
			genAct(w)
		}
	case "exp":
		for _, w := range widths {
			genExp(w)
		}
	default:
		log.Fatalf("unknown -family %q", *family)
	}
	Generate()
}
