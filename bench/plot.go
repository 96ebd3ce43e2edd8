package bench

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WritePlotFile draws the report's rates against size as a PNG (see
// WritePlot) and writes it to path.
func WritePlotFile(path string, rep *Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WritePlot(f, rep); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// sizeOfResult is the x coordinate of a row: n for a GEMM n×n×n (the cube
// root of M·K·N for other shapes), the length for a kernel of shape n=N.
func sizeOfResult(r *Result) (float64, bool) {
	switch {
	case r.Family == "gemm":
		f := strings.Split(r.Shape, "x")
		if len(f) != 3 {
			return 0, false
		}
		v := 1.0
		for _, x := range f {
			n, err := strconv.Atoi(x)
			if err != nil || n < 1 {
				return 0, false
			}
			v *= float64(n)
		}
		return math.Cbrt(v), true
	case strings.HasPrefix(r.Shape, "n="):
		n, err := strconv.Atoi(r.Shape[2:])
		return float64(n), err == nil && n > 0
	}
	return 0, false
}

// panel is one plot of the figure: GEMM GFLOP/s or level-1 GB/s.
type panel struct {
	title, ylabel, xlabel string
	series                map[string]plotter.XYs
	order                 []string
	peaks                 []PeakFigure
}

func (p *panel) add(key string, x, y float64) {
	if p.series == nil {
		p.series = map[string]plotter.XYs{}
	}
	if _, ok := p.series[key]; !ok {
		p.order = append(p.order, key)
	}
	p.series[key] = append(p.series[key], plotter.XY{X: x, Y: y})
}

// WritePlot draws a roofline-style PNG of the report: for the gemm rows
// GFLOP/s, for the level-1 kernel rows (shape n=N) GB/s, against size on a
// log2 axis (log rate axis; a GEMM of another shape than n×n×n sits at
// the cube root of M·K·N), one line per implementation, ISA, op, dtype
// and thread count, with the measured peaks as labelled horizontal lines
// (the best FMA probe per dtype and thread count; the streaming-read
// bandwidth). The legend sits beside the plot, off the data. It fails on
// a smoke run (no rates) or a report without sized rows.
func WritePlot(w io.Writer, rep *Report) error {
	if rep.Smoke {
		return errors.New("a smoke run has no rates to plot")
	}
	gemm := &panel{title: "GEMM throughput", ylabel: "GFLOP/s (log scale)", xlabel: "size n (GEMM n×n×n), log2 scale"}
	vec := &panel{title: "Level-1 kernel bandwidth", ylabel: "GB/s (log scale)", xlabel: "vector length n (elements), log2 scale"}
	fmaNeed := map[string]bool{}
	readNeed := map[int]bool{}
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Error != "" || r.Family == "peak" {
			continue
		}
		x, ok := sizeOfResult(r)
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s %s %s %s, %s", r.Impl, r.ISA, r.Op, r.DType, threadsLabel(r.Threads))
		switch {
		case r.Family == "gemm" && r.GFLOPS > 0:
			gemm.add(key, x, r.GFLOPS)
			fmaNeed[fmt.Sprint(r.DType, "|", r.Threads)] = true
		case r.Family == "kernels" && r.GBPS > 0:
			vec.add(key, x, r.GBPS)
			readNeed[r.Threads] = true
		}
	}
	best := map[string]PeakFigure{}
	for _, p := range rep.Peaks {
		switch {
		case p.Kind == "fma" && fmaNeed[fmt.Sprint(p.DType, "|", p.Threads)]:
			k := fmt.Sprint(p.DType, "|", p.Threads)
			if p.Value > best[k].Value {
				best[k] = p
			}
		case p.Kind == "read" && readNeed[p.Threads]:
			vec.peaks = append(vec.peaks, p)
		}
	}
	var keys []string
	for k := range best {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		gemm.peaks = append(gemm.peaks, best[k])
	}
	var panels []*panel
	for _, p := range []*panel{gemm, vec} {
		if len(p.series) > 0 {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return errors.New("no gemm or level-1 kernel rows with a rate and a size to plot")
	}
	const width, height = 30 * vg.Centimeter, 16 * vg.Centimeter
	img := vgimg.New(width, height*vg.Length(len(panels)))
	dc := draw.New(img)
	for i, p := range panels {
		top := dc.Max.Y - vg.Length(vg.Length(i)*height) // rounded: no fused multiply-add (internal/fusecheck)
		c := dc
		c.Min.Y, c.Max.Y = top-height, top
		if err := p.draw(c, rep); err != nil {
			return err
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// draw renders the panel in c: the plot on the left, the legend in a
// column on the right.
func (p *panel) draw(c draw.Canvas, rep *Report) error {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("%s on %s (%s)", p.title, rep.Machine.CPU, rep.Time.Format("2006-01-02"))
	pl.Title.Padding = vg.Points(10)
	pl.X.Label.Text, pl.Y.Label.Text = p.xlabel, p.ylabel
	pl.X.Scale, pl.Y.Scale = plot.LogScale{}, plot.LogScale{}
	pl.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, k := range p.order {
		xys := p.series[k]
		sort.Slice(xys, func(a, b int) bool { return xys[a].X < xys[b].X })
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		l.Width = vg.Points(1.5)
		s.Shape = plotutil.Shape(i / 7)
		s.Radius = vg.Points(3)
		pl.Add(l, s)
		leg.Add(k, l, s)
		for _, xy := range xys {
			xmin, xmax = math.Min(xmin, xy.X), math.Max(xmax, xy.X)
			ymin, ymax = math.Min(ymin, xy.Y), math.Max(ymax, xy.Y)
		}
	}
	// Room around the data: markers are not clipped, and the peak labels
	// sit above their lines.
	xmin, xmax = xmin/1.5, xmax*1.5
	var labels plotter.XYLabels
	for i, pk := range p.peaks {
		ymax = math.Max(ymax, pk.Value)
		ymin = math.Min(ymin, pk.Value)
		line, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: pk.Value}, {X: xmax, Y: pk.Value}})
		if err != nil {
			return err
		}
		line.Color = color.Gray{Y: uint8(60 + 40*(i%3))}
		line.Width = vg.Points(1.2)
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		pl.Add(line)
		name := "FMA peak"
		if pk.Kind == "read" {
			name = "memory read bandwidth"
		}
		var what []string
		for _, s := range []string{pk.DType, pk.ISA} {
			if s != "" {
				what = append(what, s)
			}
		}
		what = append(what, threadsLabel(pk.Threads))
		label := fmt.Sprintf("%s (%s): %.3g %s", name, strings.Join(what, " "), pk.Value, pk.Unit)
		leg.Add("measured "+label, line)
		labels.XYs = append(labels.XYs, plotter.XY{X: xmin * 1.05, Y: pk.Value * 1.04})
		labels.Labels = append(labels.Labels, label)
	}
	if len(labels.Labels) > 0 {
		lb, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font.Size = vg.Points(9)
		}
		pl.Add(insideLabels{lb})
	}
	pl.X.Min, pl.X.Max = xmin, xmax
	pl.Y.Min, pl.Y.Max = ymin/2, ymax*2
	pl.X.Tick.Marker = pow2Ticks{}
	pl.Y.Tick.Marker = logTicks{}
	// The plot on the left with a margin all round (the title clear of
	// the edge, the x label clear of the next panel), the legend beside it.
	legW := 9 * vg.Centimeter
	pc := c
	pc.Max.X -= legW
	pl.Draw(draw.Crop(pc, vg.Points(4), -vg.Points(8), vg.Points(14), -vg.Points(12)))
	lc := c
	lc.Min.X = c.Max.X - legW + vg.Points(8)
	lc.Max.Y -= vg.Points(40)
	leg.TextStyle.Font.Size = vg.Points(9)
	leg.Draw(lc)
	return nil
}

// pow2Ticks marks every power of two in the range (major, labelled).
type pow2Ticks struct{}

func (pow2Ticks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Ceil(math.Log2(min)); e <= math.Floor(math.Log2(max)); e++ {
		v := math.Exp2(e)
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ts
}

// logTicks marks 1, 2 and 5 times the powers of ten (labelled) in the
// range, so a log rate axis reads without exponents.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < min || v > max {
				continue
			}
			ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return ts
}

func threadsLabel(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// insideLabels are labels that sit inside the data area by construction
// (left end of a peak line, below the y range's top): they report no
// glyph boxes, which would make the plot shrink its data area for text
// that already fits.
type insideLabels struct{ *plotter.Labels }

func (insideLabels) GlyphBoxes(*plot.Plot) []plot.GlyphBox { return nil }
