package viz

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestGridMatchesVisualizeGrid(t *testing.T) {
	// 5 gray 2×2 images: grid 3×3 with padding 3 → 2*3+3*2 = 12 pixels square.
	n, h, w := 5, 2, 2
	data := make([]float64, n*h*w)
	for i := range data {
		data[i] = float64(i%7) - 3
	}
	for j := 0; j < 4; j++ { // image 4 is constant: no division by zero
		data[4*4+j] = 1.5
	}
	img := Grid(data, n, h, w, 1, 3)
	if b := img.Bounds(); b.Dx() != 12 || b.Dy() != 12 {
		t.Fatalf("grid is %v, want 12×12", b)
	}
	for i := 0; i < n; i++ {
		x := data[i*4 : i*4+4]
		lo, hi := x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		y0, x0 := (i/3)*5, (i%3)*5
		for p := 0; p < 4; p++ {
			want := uint8(0)
			if hi > lo {
				want = uint8(255 * (x[p] - lo) / (hi - lo))
			}
			got := img.RGBAAt(x0+p%2, y0+p/2)
			if got.R != want || got.G != want || got.B != want {
				t.Errorf("image %d pixel %d = %v, want %d", i, p, got, want)
			}
		}
	}
	if px := img.RGBAAt(2, 0); px.R != 0 { // padding
		t.Errorf("padding pixel = %v", px)
	}
}

func TestTemplatesGlobalMinMax(t *testing.T) {
	// D = 1×1×3, C = 2: W rows are channels, columns classes.
	W := []float64{-1, 1, 0, 3, 2, 0.5}
	img := Templates(W, 3, 2, 1, 1, 3, 1)
	if b := img.Bounds(); b.Dx() != 3 || b.Dy() != 1 {
		t.Fatalf("bounds %v", b)
	}
	c0, c1 := img.RGBAAt(0, 0), img.RGBAAt(2, 0)
	f := func(v float64) uint8 { return uint8(255 * (v + 1) / 4) }
	if c0.R != f(-1) || c0.G != f(0) || c0.B != f(2) || c1.R != f(1) || c1.G != f(3) || c1.B != f(0.5) {
		t.Errorf("templates %v %v", c0, c1)
	}
}

func TestPlotsWritePNG(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "loss.png")
	if err := LinePNG(p, "loss", "it", "loss", Series{Name: "train", X: []float64{0, 1, 2}, Y: []float64{2.3, 2.1, 1.9}}); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "confusion.png")
	if err := ConfusionPNG(c, "confusion", [][]int{{3, 1}, {0, 4}}, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{p, c} {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(fh); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		fh.Close()
	}
	if err := LinePNG(p, "x", "x", "y", Series{X: []float64{1}, Y: nil}); err == nil {
		t.Error("mismatched series accepted")
	}
}
