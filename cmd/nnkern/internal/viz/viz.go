// Package viz draws the pictures of an nnkern run: loss and accuracy curves
// and confusion matrices (gonum.org/v1/plot), and weight images — the
// linear classifier's class templates and the reference's visualize_grid
// for first-layer weights.
//
// The line charts decide from the data what a reader needs (see LinePNG):
// integer ticks for iterations and epochs, a log scale for a loss that
// spans more than LogDecades decades, markers on short series, a legend
// where it covers no curve; where there is nothing to draw, MessagePNG
// says so in words instead of drawing empty axes.
//
// Usage:
//
//	err := viz.LinePNG("run/loss.png", "Loss history", "iteration", "loss",
//		viz.Series{Name: "train", X: its, Y: losses})
//	err = viz.MessagePNG("run/accuracy.png", "Accuracy", "a single check: val 0.107")
//	img := viz.Grid(images, n, h, w, c, 3) // visualize_grid(W1, padding=3)
//	err = viz.SavePNG("run/weights.png", viz.Labelled(viz.Scale(img, 2), "W1", nil, 0, 0))
package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	imgdraw "image/draw"
	"image/png"
	"math"

	"github.com/nnkern/nnkern/internal/fileio"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type confGrid struct {
	m [][]int
	n int
}

func (g confGrid) Dims() (c, r int)   { return g.n, g.n }
func (g confGrid) X(c int) float64    { return float64(c) }
func (g confGrid) Y(r int) float64    { return float64(r) }
func (g confGrid) Z(c, r int) float64 { return float64(g.m[g.n-1-r][c]) }

type ticks []string

func (t ticks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for i, s := range t {
		out = append(out, plot.Tick{Value: float64(i), Label: s})
	}
	return out
}

type revTicks []string

func (t revTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for i, s := range t {
		out = append(out, plot.Tick{Value: float64(len(t) - 1 - i), Label: s})
	}
	return out
}

// ConfusionPNG draws the confusion matrix m (m[true][predicted]) as a heat
// map with the counts written in the cells.
func ConfusionPNG(path, title string, m [][]int, classes []string) error {
	n := len(m)
	if n == 0 || len(classes) != n {
		return fmt.Errorf("plot %s: %d×? confusion matrix for %d classes", path, n, len(classes))
	}
	max := 0
	for _, row := range m {
		if len(row) != n {
			return fmt.Errorf("plot %s: confusion matrix is not square", path)
		}
		for _, v := range row {
			if v > max {
				max = v
			}
		}
	}
	p := newPlot(title)
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	pal := moreland.SmoothBlueRed()
	pal.SetMin(0)
	pal.SetMax(math.Max(float64(max), 1))
	hm := plotter.NewHeatMap(confGrid{m, n}, pal.Palette(64))
	hm.Min, hm.Max = 0, math.Max(float64(max), 1)
	p.Add(hm)
	var labels plotter.XYLabels
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(n - 1 - r)})
			labels.Labels = append(labels.Labels, fmt.Sprint(m[r][c]))
		}
	}
	lp, err := plotter.NewLabels(labels)
	if err == nil {
		for i := range lp.TextStyle {
			lp.TextStyle[i].XAlign = -0.5
			lp.TextStyle[i].YAlign = -0.5
		}
		p.Add(lp)
	}
	p.X.Tick.Marker = ticks(classes)
	p.Y.Tick.Marker = revTicks(classes)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = -1
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	return savePlot(path, p, 7*vg.Inch, 6*vg.Inch)
}

// Grid is the reference's visualize_grid: n images of h×w×c values (HWC,
// image i at data[i*h*w*c:]) laid out on a ceil(sqrt(n)) square grid with
// padding pixels of 0 between them, each image min–max scaled to 0..255 on
// its own. A constant image becomes 0 (no division by zero). c must be 1
// (gray) or 3 (RGB).
func Grid(data []float64, n, h, w, c, padding int) *image.RGBA {
	if c != 1 && c != 3 {
		panic(fmt.Sprintf("viz.Grid: c = %d, want 1 or 3", c))
	}
	if len(data) < n*h*w*c {
		panic(fmt.Sprintf("viz.Grid: len(data) = %d < n*h*w*c = %d", len(data), n*h*w*c))
	}
	g := int(math.Ceil(math.Sqrt(float64(n))))
	if n == 0 {
		g = 0
	}
	gh := h*g + padding*max(g-1, 0)
	gw := w*g + padding*max(g-1, 0)
	img := image.NewRGBA(image.Rect(0, 0, max(gw, 1), max(gh, 1)))
	for i := range img.Pix {
		img.Pix[i] = 0
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	sz := h * w * c
	for i := 0; i < n; i++ {
		x := data[i*sz : (i+1)*sz]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range x {
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
		scale := 0.0
		if hi > lo {
			scale = 255 / (hi - lo)
		}
		y0 := (i / g) * (h + padding)
		x0 := (i % g) * (w + padding)
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				var px [3]uint8
				for ch := 0; ch < 3; ch++ {
					v := x[(yy*w+xx)*c+min(ch, c-1)]
					px[ch] = toByte((v - lo) * scale)
				}
				img.SetRGBA(x0+xx, y0+yy, color.RGBA{px[0], px[1], px[2], 255})
			}
		}
	}
	return img
}

// Templates draws the linear classifier's class templates the way the
// notebook does: W is D×C (row-major, the bias row already removed, D =
// h*w*c), rescaled to 0..255 with the minimum and maximum over all of W,
// one template per class in a row with padding pixels between them.
func Templates(W []float64, d, classes, h, w, c, padding int) *image.RGBA {
	if d != h*w*c || len(W) < d*classes {
		panic(fmt.Sprintf("viz.Templates: W has %d values for D=%d (h*w*c=%d) and C=%d", len(W), d, h*w*c, classes))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range W[:d*classes] {
		lo = math.Min(lo, v)
		hi = math.Max(hi, v)
	}
	scale := 0.0
	if hi > lo {
		scale = 255 / (hi - lo)
	}
	gw := classes*w + padding*max(classes-1, 0)
	img := image.NewRGBA(image.Rect(0, 0, max(gw, 1), h))
	for k := 0; k < classes; k++ {
		x0 := k * (w + padding)
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				var px [3]uint8
				for ch := 0; ch < 3; ch++ {
					row := (yy*w+xx)*c + min(ch, c-1)
					px[ch] = toByte((W[row*classes+k] - lo) * scale)
				}
				img.SetRGBA(x0+xx, yy, color.RGBA{px[0], px[1], px[2], 255})
			}
		}
	}
	return img
}

func toByte(v float64) uint8 {
	switch {
	case !(v > 0):
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v) // astype('uint8') truncates
}

// Scale enlarges img by an integer factor (nearest neighbour) so small
// images are visible.
func Scale(img *image.RGBA, f int) *image.RGBA {
	if f <= 1 {
		return img
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*f, b.Dy()*f))
	for y := 0; y < b.Dy()*f; y++ {
		for x := 0; x < b.Dx()*f; x++ {
			out.SetRGBA(x, y, img.RGBAAt(b.Min.X+x/f, b.Min.Y+y/f))
		}
	}
	return out
}

// SavePNG writes img to path atomically.
func SavePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("png %s: %w", path, err)
	}
	return fileio.WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// Labelled returns img with a title above it and, when names is not nil,
// names[i] centred under the i-th of a row of tiles tileW pixels wide,
// pitch pixels apart (the layout Templates draws), on a white background.
func Labelled(img *image.RGBA, title string, names []string, tileW, pitch int) *image.RGBA {
	const (
		side  = 8  // pixels left and right
		tband = 34 // title band
		nband = 28 // names band
	)
	b := img.Bounds()
	p := newPlot(title)
	tsty := p.Title.TextStyle
	tsty.XAlign, tsty.YAlign = draw.XCenter, draw.YCenter
	tsty.Font.Size = 16
	nsty := p.X.Label.TextStyle
	nsty.XAlign, nsty.YAlign = draw.XCenter, draw.YCenter
	nsty.Font.Size = 14
	// Text is measured in points; the canvas has 72 dpi, a point a pixel.
	W := max(b.Dx(), int(tsty.Width(title))+8) + 2*side
	H := tband + b.Dy() + side
	if names != nil {
		H += nband - side
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(W), vg.Length(H)), vgimg.UseDPI(72))
	dc := draw.New(c)
	dc.FillText(tsty, vg.Point{X: vg.Length(W) / 2, Y: vg.Length(H - tband/2)}, title)
	x0 := (W - b.Dx()) / 2
	for i, n := range names {
		x := x0 + i*pitch + tileW/2
		dc.FillText(nsty, vg.Point{X: vg.Length(x), Y: vg.Length(nband / 2)}, n)
	}
	out := image.NewRGBA(image.Rect(0, 0, W, H))
	imgdraw.Draw(out, out.Bounds(), c.Image(), c.Image().Bounds().Min, imgdraw.Src)
	imgdraw.Draw(out, image.Rect(x0, tband, x0+b.Dx(), tband+b.Dy()), img, b.Min, imgdraw.Over)
	return out
}
