package bench

import (
	"bytes"
	"image/png"
	"testing"
	"time"
)

func TestWritePlot(t *testing.T) {
	rep := &Report{Schema: SchemaVersion, Time: time.Unix(0, 0).UTC(), Machine: Machine{CPU: "test CPU"},
		Peaks: []PeakFigure{{Kind: "fma", DType: "f32", ISA: "avx2", Threads: 1, Value: 100, Unit: "GFLOP/s"},
			{Kind: "fma", DType: "f32", ISA: "avx512", Threads: 1, Value: 200, Unit: "GFLOP/s"},
			{Kind: "read", Threads: 1, Value: 15, Unit: "GB/s"}}}
	for i, n := range []string{"64", "128", "256"} {
		rep.Results = append(rep.Results,
			Result{Family: "gemm", Op: "NN", DType: "f32", Impl: "native", ISA: "avx512", Threads: 1, Shape: n + "x" + n + "x" + n, GFLOPS: float64(50 * (i + 1))},
			Result{Family: "kernels", Op: "Dot", DType: "f32", Impl: "nnkern", ISA: "avx2", Threads: 1, Shape: "n=" + n, GBPS: float64(10 * (i + 1))})
	}
	var buf bytes.Buffer
	if err := WritePlot(&buf, rep); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// Two panels (GEMM and level-1) stacked.
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 2*b.Dx()/2 {
		t.Errorf("plot is %v", b)
	}
	if x, ok := sizeOfResult(&Result{Family: "gemm", Shape: "200x3072x200"}); !ok || x < 497 || x > 497.2 {
		t.Errorf("size of 200x3072x200 = %v, %v (want the cube root of the product)", x, ok)
	}
	rep.Smoke = true
	if err := WritePlot(&buf, rep); err == nil {
		t.Error("a smoke run was plotted")
	}
	if err := WritePlot(&buf, &Report{}); err == nil {
		t.Error("a report without rows was plotted")
	}
}
