package viz

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// decay is a loss that falls like the softmax trainer's, from about 780
// to about 2 over n iterations.
func decay(n int, hi, lo float64) Series {
	s := Series{Name: "training loss"}
	for i := 0; i < n; i++ {
		s.X = append(s.X, float64(i))
		s.Y = append(s.Y, lo+(hi-lo)*math.Exp(-float64(i)/100))
	}
	return s
}

func TestUseLogY(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		y    []float64
		want bool
	}{
		{"softmax 780 to 2", decay(1500, 780, 2).Y, true},
		{"twolayer 2.3 to 1.5", decay(300, 2.3, 1.5).Y, false},
		{"just under 1.5 decades", []float64{1, 31}, false},
		{"just over 1.5 decades", []float64{1, 32}, true},
		{"a zero", []float64{0, 1, 1000}, false},
		{"a negative", []float64{-1, 1, 1000}, false},
		{"non-finite ignored", []float64{nan, 1, math.Inf(1), 1000}, true},
		{"constant", []float64{5, 5}, false},
		{"empty", nil, false},
	} {
		x := make([]float64, len(tc.y))
		if got := UseLogY(Series{X: x, Y: tc.y}); got != tc.want {
			t.Errorf("%s: UseLogY = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLossChartAxes(t *testing.T) {
	for _, tc := range []struct {
		s   Series
		log bool
	}{{decay(1500, 780, 2), true}, {decay(300, 2.3, 1.5), false}} {
		p, leg, _, err := lineChart("loss", "iteration", "loss", []Series{tc.s})
		if err != nil || p == nil || leg == nil {
			t.Fatalf("lineChart: %v %v", p, err)
		}
		_, isLog := p.Y.Tick.Marker.(logTicks)
		if isLog != tc.log || strings.HasSuffix(p.Y.Label.Text, "(log scale)") != tc.log {
			t.Errorf("%d iterations: log scale %v, label %q; want log %v", len(tc.s.X), isLog, p.Y.Label.Text, tc.log)
		}
		// Markers at the ends are inside the axes, not on their edges.
		last := len(tc.s.X) - 1
		ylo, yhi := tc.s.Y[last], tc.s.Y[0]
		if tc.log {
			ylo, yhi = math.Log10(ylo), math.Log10(yhi)
		}
		if !(p.X.Min < tc.s.X[0] && p.X.Max > tc.s.X[last]) || !(p.Y.Min < ylo && p.Y.Max > yhi) {
			t.Errorf("ranges x %g..%g y %g..%g do not pad the data", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
		}
		checkIntegerTicks(t, p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max), p.X.Min, p.X.Max)
		checkLabels(t, p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max), p.Y.Min, p.Y.Max, tc.log)
	}
}

// checkIntegerTicks: labelled ticks are integers (or 10k-style), equally
// spaced, cover the range, and each label reads as its value.
func checkIntegerTicks(t *testing.T, ticks []plot.Tick, lo, hi float64) {
	t.Helper()
	var vals []float64
	for _, tk := range ticks {
		if tk.Value < lo || tk.Value > hi {
			t.Errorf("tick %v outside %g..%g", tk, lo, hi)
		}
		if tk.Label == "" {
			continue
		}
		l, mul := tk.Label, 1.0
		if strings.HasSuffix(l, "k") {
			l, mul = strings.TrimSuffix(l, "k"), 1000
		}
		v, err := strconv.Atoi(l)
		if err != nil || float64(v)*mul != tk.Value {
			t.Errorf("tick %g labelled %q, want an integer label of its value", tk.Value, tk.Label)
		}
		vals = append(vals, tk.Value)
	}
	if len(vals) < 2 || len(vals) > 11 {
		t.Fatalf("%d labelled ticks on %g..%g: %v", len(vals), lo, hi, ticks)
	}
	step := vals[1] - vals[0]
	for i := 1; i < len(vals); i++ {
		if vals[i]-vals[i-1] != step {
			t.Errorf("unequal tick steps: %v", vals)
		}
	}
	if vals[0]-step >= lo || vals[len(vals)-1]+step <= hi {
		t.Errorf("ticks %v leave out a step inside %g..%g", vals, lo, hi)
	}
}

// checkLabels: at least two labelled ticks, each label reads as its value
// (as 10^value on a log axis).
func checkLabels(t *testing.T, ticks []plot.Tick, lo, hi float64, log bool) {
	t.Helper()
	n := 0
	for _, tk := range ticks {
		if tk.Value < lo || tk.Value > hi {
			t.Errorf("tick %v outside %g..%g", tk, lo, hi)
		}
		if tk.Label == "" {
			continue
		}
		n++
		want := tk.Value
		if log {
			want = math.Pow(10, want)
		}
		v, err := strconv.ParseFloat(tk.Label, 64)
		if err != nil || math.Abs(v-want) > 1e-9*math.Abs(want) {
			t.Errorf("tick %g labelled %q", tk.Value, tk.Label)
		}
	}
	if n < 2 {
		t.Errorf("%d labelled ticks on %g..%g", n, lo, hi)
	}
}

func TestIntegerTicks(t *testing.T) {
	for _, r := range [][2]float64{{-0.2, 4.2}, {-0.44, 11.44}, {-1, 1}, {-60, 1560}, {-800, 20800}, {0, 250}, {-3, 2003}, {0, 1e6}} {
		ticks := linearTicks{integer: true}.Ticks(r[0], r[1])
		checkIntegerTicks(t, ticks, r[0], r[1])
		for _, tk := range ticks {
			if tk.Value != math.Trunc(tk.Value) {
				t.Errorf("%v: tick at %g on an integer axis", r, tk.Value)
			}
		}
	}
	// 10k style from 10000 on, plain integers below.
	if l := (linearTicks{integer: true}).Ticks(0, 20000)[1].Label; l != "5k" {
		t.Errorf("0..20000: second label %q, want 5k", l)
	}
	if l := (linearTicks{integer: true}).Ticks(0, 2000)[1].Label; l != "500" {
		t.Errorf("0..2000: second label %q, want 500", l)
	}
}

func TestLinearAndLogTicks(t *testing.T) {
	for _, r := range [][2]float64{{0.1, 0.35}, {1.43, 2.33}, {0.0012, 0.0019}, {-3, 7}, {730, 770}} {
		checkLabels(t, linearTicks{}.Ticks(r[0], r[1]), r[0], r[1], false)
	}
	for _, r := range [][2]float64{{1.6, 900}, {0.05, 3}, {1, 1e8}, {2.1, 80}} {
		lo, hi := math.Log10(r[0]), math.Log10(r[1])
		ticks := logTicks{}.Ticks(lo, hi)
		checkLabels(t, ticks, lo, hi, true)
		for _, tk := range ticks {
			v := math.Pow(10, tk.Value)
			m := v / math.Pow(10, math.Floor(tk.Value+1e-12))
			if math.Abs(m-math.Round(m)) > 1e-9 {
				t.Errorf("%v: log tick at %g is not an integer times a power of ten", r, v)
			}
		}
	}
}

func TestNoDataChart(t *testing.T) {
	dir := t.TempDir()
	nan := math.NaN()
	for i, series := range [][]Series{
		nil,
		{{Name: "training loss"}},
		{{Name: "a", X: []float64{0, 1}, Y: []float64{nan, math.Inf(1)}}, {Name: "b"}},
	} {
		p, _, _, err := lineChart("t", "x", "y", series)
		if err != nil || p != nil {
			t.Errorf("case %d: lineChart = %v, %v; want no plot", i, p, err)
		}
		path := filepath.Join(dir, strconv.Itoa(i)+".png")
		if err := LinePNG(path, "t", "x", "y", series...); err != nil {
			t.Fatal(err)
		}
		decodePNG(t, path)
	}
	// A non-finite value breaks the line and is counted in the legend.
	p, leg, _, err := lineChart("t", "x", "y", []Series{{Name: "loss", X: []float64{0, 1, 2, 3}, Y: []float64{3, nan, 2, 1}}})
	if err != nil || p == nil {
		t.Fatal(err)
	}
	if w, _ := legendSize(leg); w == 0 {
		t.Error("empty legend")
	}
	runs, skipped := finite(Series{X: []float64{0, 1, 2, 3}, Y: []float64{3, nan, 2, 1}})
	if skipped != 1 || len(runs) != 2 || len(runs[0]) != 1 || len(runs[1]) != 2 {
		t.Errorf("finite: %v runs, %d skipped", runs, skipped)
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestSegmentHitsRect compares the clipping test with dense sampling of
// the segment.
func TestSegmentHitsRect(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		ax, ay, bx, by := rng.Float64()*10, rng.Float64()*10, rng.Float64()*10, rng.Float64()*10
		if i%5 == 0 {
			by = ay // horizontal
		}
		x0, y0 := rng.Float64()*8, rng.Float64()*8
		x1, y1 := x0+rng.Float64()*3, y0+rng.Float64()*3
		sample := func(eps float64) bool {
			const n = 20000
			for k := 0; k <= n; k++ {
				f := float64(k) / n
				x, y := ax+f*(bx-ax), ay+f*(by-ay)
				if x >= x0-eps && x <= x1+eps && y >= y0-eps && y <= y1+eps {
					return true
				}
			}
			return false
		}
		got := segmentHitsRect(ax, ay, bx, by, x0, y0, x1, y1)
		// Sampling every 1/20000 of the segment can miss a grazing hit
		// only by less than a sample step: a hit must be seen with the
		// rectangle grown by one step.
		if want := sample(0); want && !got || got && !sample(1e-3) {
			t.Errorf("segment (%g,%g)-(%g,%g) rect [%g,%g]×[%g,%g]: got %v, sampling %v", ax, ay, bx, by, x0, x1, y0, y1, got, want)
		}
	}
}

// TestLegendCorner: the legend goes where no curve runs — top right for a
// falling loss, top left for a rising accuracy, bottom right for a curve
// along the top, beside the plot when curves fill every corner.
func TestLegendCorner(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6}
	rise := Series{Name: "train", X: x, Y: []float64{0.1, 0.2, 0.3, 0.33, 0.34, 0.35, 0.35}}
	fall := Series{Name: "loss", X: x, Y: []float64{9, 5, 3, 2, 1.5, 1.2, 1.1}}
	top := Series{Name: "high", X: x, Y: []float64{1, 1, 1, 1, 1, 1, 1}}
	low := Series{Name: "low", X: x, Y: []float64{0, 0, 0, 0, 0, 0, 0}}
	dir := t.TempDir()
	for _, tc := range []struct {
		name          string
		series        []Series
		top, left, ok bool
	}{
		{"falling", []Series{fall}, true, false, true},
		{"rising", []Series{rise}, true, true, true},
		{"along the top, from the bottom left", []Series{top, {Name: "mid", X: x, Y: []float64{0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9}}}, false, false, true},
		{"top and bottom", []Series{top, low}, false, false, false},
	} {
		p, leg, drawn, err := lineChart("t", "x", "y", tc.series)
		if err != nil || p == nil {
			t.Fatal(err)
		}
		c := draw.New(vgimg.New(chartW, chartH))
		da := p.DataCanvas(inner(c))
		w, h := legendSize(leg)
		top, left, ok := freeCorner(p, da, drawn, w, h)
		if ok != tc.ok || ok && (top != tc.top || left != tc.left) {
			t.Errorf("%s: corner top=%v left=%v ok=%v, want top=%v left=%v ok=%v", tc.name, top, left, ok, tc.top, tc.left, tc.ok)
		}
		path := filepath.Join(dir, "legend.png")
		if err := LinePNG(path, "t", "x", "y", tc.series...); err != nil {
			t.Fatal(err)
		}
		decodePNG(t, path)
	}
}

func TestMessagePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.png")
	if err := MessagePNG(path, "softmax: loss history", "no training iterations", "second line"); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	w, h := chartW.Dots(vgimg.DefaultDPI), chartH.Dots(vgimg.DefaultDPI)
	if b := img.Bounds(); math.Abs(float64(b.Dx())-w) > 1 || math.Abs(float64(b.Dy())-h) > 1 {
		t.Errorf("message PNG is %v, want the chart size %gx%g", b, w, h)
	}
}

// TestLabelled: the tiles are copied unchanged below the title band, and
// the image grows to hold the title and names.
func TestLabelled(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 50, 20))
	for y := 0; y < 20; y++ {
		for x := 0; x < 50; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 5), uint8(y * 10), 7, 255})
		}
	}
	out := Labelled(img, "t", []string{"a", "b"}, 20, 30)
	b := out.Bounds()
	if b.Dx() <= 50 || b.Dy() <= 20 {
		t.Fatalf("labelled image %v", b)
	}
	// find the tiles: the pixel (0,0) of img is (0,0,7); search for its offset.
	ox, oy := -1, -1
	for y := 0; y < b.Dy() && ox < 0; y++ {
		for x := 0; x < b.Dx(); x++ {
			if out.RGBAAt(x, y) == (color.RGBA{0, 0, 7, 255}) && out.RGBAAt(x+49, y+19) == img.RGBAAt(49, 19) {
				ox, oy = x, y
				break
			}
		}
	}
	if ox < 0 || oy == 0 {
		t.Fatal("tiles not found below a title band")
	}
	for y := 0; y < 20; y++ {
		for x := 0; x < 50; x++ {
			if out.RGBAAt(ox+x, oy+y) != img.RGBAAt(x, y) {
				t.Fatalf("pixel %d,%d changed", x, y)
			}
		}
	}
	if out.Bounds().Dy() <= oy+20 {
		t.Error("no band for the names under the tiles")
	}
}
