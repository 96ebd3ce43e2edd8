package viz

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/nnkern/nnkern/internal/fileio"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named curve.
type Series struct {
	Name string
	X, Y []float64
}

// Line charts are 6×4 inches; the margin keeps the title off the top edge
// and the last tick label and marker off the right one.
const (
	chartW, chartH = 6 * vg.Inch, 4 * vg.Inch
	margin         = 8 // points
	titlePad       = 6 // points between the title and the plot
	legendInset    = 4 // points between the legend and the data area's edge
)

// LogDecades is how many decades (max/min = 10^LogDecades) the positive
// values of a chart's y data must span before LinePNG draws y on a log
// scale: below it a linear axis shows the curve fine, above it the end of
// a curve that falls from hundreds to units is a flat line on the floor.
const LogDecades = 1.5

// LinePNG plots the series as lines and writes a PNG to path atomically.
//
// What it decides from the data: the x axis gets integer ticks when every x
// is an integer (iterations, epochs); y is drawn on a log scale when
// UseLogY says so, and the y label then ends in "(log scale)"; series of
// at most 50 points also get a marker at each point; the x and y ranges are
// padded so that no marker is cut at an edge; the legend goes into the
// corner of the data area that no curve or marker passes through, or to the
// right of the plot when every corner is taken. Non-finite y values are
// left out (the line breaks there) and counted in the legend. Without a
// single finite point the PNG says "no data to plot" instead of drawing
// empty axes.
func LinePNG(path, title, xlabel, ylabel string, series ...Series) error {
	for _, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("plot %s: series %q has %d x and %d y values", path, s.Name, len(s.X), len(s.Y))
		}
	}
	p, leg, drawn, err := lineChart(title, xlabel, ylabel, series)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if p == nil {
		return MessagePNG(path, title, "no data to plot")
	}
	c := vgimg.New(chartW, chartH)
	drawChart(draw.New(c), p, leg, drawn)
	return writeCanvas(path, c)
}

// finite returns the points of s with a finite x and y, split where s
// has a non-finite value, and how many were left out.
func finite(s Series) (runs []plotter.XYs, skipped int) {
	var cur plotter.XYs
	for i := range s.X {
		x, y := s.X[i], s.Y[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			skipped++
			if len(cur) > 0 {
				runs = append(runs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: x, Y: y})
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs, skipped
}

// UseLogY reports whether LinePNG draws the series' y values on a log
// scale: all finite values are positive and the largest is more than
// 10^LogDecades times the smallest.
func UseLogY(series ...Series) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, y := range s.Y {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			if y <= 0 {
				return false
			}
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	return hi > lo && math.Log10(hi/lo) > LogDecades
}

// lineChart builds the plot of LinePNG and its legend (drawn by
// drawChart, not by the plot); a nil plot means there is nothing to draw.
// On a log scale the plot holds log10 of the y values on a linear axis
// whose ticks are labelled with the values themselves (gonum's LogScale
// places a centred axis label at the arithmetic middle of the range, which
// on a log axis is near the top, and pads the plot for it); drawn is the
// series as plotted.
func lineChart(title, xlabel, ylabel string, series []Series) (p *plot.Plot, leg *plot.Legend, drawn []Series, err error) {
	p = newPlot(title)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	logY := UseLogY(series...)
	if logY {
		series = log10Y(series)
	}
	intX := true
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	l := plot.NewLegend()
	leg = &l
	leg.Padding = vg.Points(2)
	some := false
	for i, s := range series {
		runs, skipped := finite(s)
		if len(runs) == 0 {
			continue
		}
		some = true
		n := 0
		for _, r := range runs {
			n += len(r)
		}
		col := plotutil.Color(i)
		var thumbs []plot.Thumbnailer
		for _, r := range runs {
			for _, pt := range r {
				xlo, xhi = math.Min(xlo, pt.X), math.Max(xhi, pt.X)
				ylo, yhi = math.Min(ylo, pt.Y), math.Max(yhi, pt.Y)
				if pt.X != math.Trunc(pt.X) {
					intX = false
				}
			}
			ln, err := plotter.NewLine(r)
			if err != nil {
				return nil, nil, nil, err
			}
			ln.Color = col
			ln.Width = vg.Points(1.2)
			p.Add(ln)
			if thumbs == nil {
				thumbs = append(thumbs, ln)
			}
			if n <= 50 {
				sc, err := plotter.NewScatter(r)
				if err != nil {
					return nil, nil, nil, err
				}
				sc.Color = col
				sc.Shape = plotutil.Shape(i)
				sc.Radius = vg.Points(3)
				p.Add(sc)
				if len(thumbs) == 1 {
					thumbs = append(thumbs, sc)
				}
			}
		}
		name := s.Name
		if skipped > 0 {
			name += fmt.Sprintf(" (%d non-finite not drawn)", skipped)
		}
		if name != "" {
			leg.Add(name, thumbs...)
		}
	}
	if !some {
		return nil, nil, nil, nil
	}
	p.X.Min, p.X.Max = padRange(xlo, xhi, intX)
	p.Y.Min, p.Y.Max = padRange(ylo, yhi, false)
	p.X.Tick.Marker = linearTicks{integer: intX}
	if logY {
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text = strings.TrimSpace(ylabel + " (log scale)")
	} else {
		p.Y.Tick.Marker = linearTicks{}
	}
	return p, leg, series, nil
}

// log10Y returns the series with log10 of their y values.
func log10Y(series []Series) []Series {
	out := make([]Series, len(series))
	for i, s := range series {
		out[i] = Series{Name: s.Name, X: s.X, Y: make([]float64, len(s.Y))}
		for j, y := range s.Y {
			out[i].Y[j] = math.Log10(y)
		}
	}
	return out
}

// padRange widens [lo, hi] by 4% on each side so markers at the ends are
// not cut; a single value gets a range around it.
func padRange(lo, hi float64, integer bool) (float64, float64) {
	if hi == lo {
		d := math.Abs(lo) * 0.1
		if integer || d == 0 {
			d = 1
		}
		return lo - d, hi + d
	}
	d := (hi - lo) * 0.04
	return lo - d, hi + d
}

func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(titlePad)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	return p
}

// inner is the part of c a plot is drawn in: c less the margin.
func inner(c draw.Canvas) draw.Canvas {
	m := vg.Points(margin)
	return draw.Crop(c, m, -m, m, -m)
}

// drawChart draws p and its legend on c: the legend in a free corner of
// the data area, or in a column right of the plot.
func drawChart(c draw.Canvas, p *plot.Plot, leg *plot.Legend, series []Series) {
	area := inner(c)
	if leg == nil || len(series) == 0 || legendEmpty(leg) {
		p.Draw(area)
		return
	}
	lw, lh := legendSize(leg)
	da := p.DataCanvas(area)
	if top, left, ok := freeCorner(p, da, series, lw, lh); ok {
		p.Draw(area)
		leg.Top, leg.Left = top, left
		leg.Draw(draw.Crop(da, vg.Points(legendInset), -vg.Points(legendInset), vg.Points(legendInset), -vg.Points(legendInset)))
		return
	}
	gap := vg.Points(10)
	p.Draw(draw.Crop(area, 0, -(lw + gap), 0, 0))
	da = p.DataCanvas(draw.Crop(area, 0, -(lw + gap), 0, 0))
	col := area
	col.Min.X = col.Max.X - lw
	col.Max.Y = da.Max.Y
	leg.Top, leg.Left = true, true
	leg.Draw(col)
}

func legendEmpty(leg *plot.Legend) bool {
	return leg.Rectangle(draw.Canvas{}).Size().Y == 0
}

// legendSize is the width and height the legend's Draw covers.
func legendSize(leg *plot.Legend) (w, h vg.Length) {
	s := leg.Rectangle(draw.Canvas{}).Size()
	e := leg.TextStyle.Rectangle(" ")
	return s.X + e.Size().X, s.Y + vg.Length(leg.TextStyle.FontExtents().Descent)
}

// freeCorner picks the first corner of the data area da (top right, top
// left, bottom right, bottom left) where a w×h legend touches no line
// or marker of the series.
func freeCorner(p *plot.Plot, da draw.Canvas, series []Series, w, h vg.Length) (top, left, ok bool) {
	in := vg.Points(legendInset)
	clear := vg.Points(5) // a marker's radius and some air
	for _, k := range []struct{ top, left bool }{{true, false}, {true, true}, {false, false}, {false, true}} {
		var r vg.Rectangle
		if k.left {
			r.Min.X, r.Max.X = da.Min.X+in, da.Min.X+in+w
		} else {
			r.Min.X, r.Max.X = da.Max.X-in-w, da.Max.X-in
		}
		if k.top {
			r.Min.Y, r.Max.Y = da.Max.Y-in-h, da.Max.Y-in
		} else {
			r.Min.Y, r.Max.Y = da.Min.Y+in, da.Min.Y+in+h
		}
		r.Min.X, r.Min.Y, r.Max.X, r.Max.Y = r.Min.X-clear, r.Min.Y-clear, r.Max.X+clear, r.Max.Y+clear
		if !hitsAny(p, da, series, r) {
			return k.top, k.left, true
		}
	}
	return false, false, false
}

// hitsAny reports whether a line segment or point of the series, drawn
// on da, passes through r.
func hitsAny(p *plot.Plot, da draw.Canvas, series []Series, r vg.Rectangle) bool {
	pt := func(xy plotter.XY) (float64, float64) {
		return float64(da.X(p.X.Norm(xy.X))), float64(da.Y(p.Y.Norm(xy.Y)))
	}
	x0, y0, x1, y1 := float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)
	for _, s := range series {
		runs, _ := finite(s)
		for _, run := range runs {
			for i := range run {
				ax, ay := pt(run[i])
				bx, by := ax, ay
				if i+1 < len(run) {
					bx, by = pt(run[i+1])
				}
				if segmentHitsRect(ax, ay, bx, by, x0, y0, x1, y1) {
					return true
				}
			}
		}
	}
	return false
}

// segmentHitsRect is Liang–Barsky clipping of the segment a–b against the
// rectangle [x0,x1]×[y0,y1]: true if any part of the segment is inside.
func segmentHitsRect(ax, ay, bx, by, x0, y0, x1, y1 float64) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := bx-ax, by-ay
	for _, e := range [4][2]float64{{-dx, ax - x0}, {dx, x1 - ax}, {-dy, ay - y0}, {dy, y1 - ay}} {
		pp, q := e[0], e[1]
		if pp == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		t := q / pp
		if pp < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

// linearTicks are ticks at 1, 2 or 5 times a power of ten, about six of
// them, labelled with as many decimals as the step needs. With integer
// set the step is at least 1 and labels are integers; from 10000 on they
// read 10k, 20k, … when every labelled value is a multiple of 1000.
type linearTicks struct{ integer bool }

func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	step, mult := niceStep((hi - lo) / 6)
	if t.integer && step < 1 {
		step, mult = 1, 1
	}
	minor := step / 5
	if mult == 2 {
		minor = step / 4
	}
	if t.integer && minor != math.Trunc(minor) {
		minor = 0
	}
	dec := 0
	if !t.integer {
		dec = max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	}
	kilo := t.integer && hi >= 10000 && math.Mod(step, 1000) == 0
	var out []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi; i++ {
		v := i * step
		out = append(out, plot.Tick{Value: v, Label: tickLabel(v, dec, kilo)})
	}
	if minor > 0 {
		for i := math.Ceil(lo / minor); i*minor <= hi; i++ {
			v := i * minor
			if math.Abs(math.Remainder(v, step)) > minor/2 {
				out = append(out, plot.Tick{Value: v})
			}
		}
	}
	return out
}

func tickLabel(v float64, dec int, kilo bool) string {
	if v == 0 {
		return "0"
	}
	if kilo {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// niceStep is the smallest 1, 2 or 5 times a power of ten at least raw,
// and which of 1, 2, 5 it is.
func niceStep(raw float64) (step float64, mult int) {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []int{1, 2, 5, 10} {
		if float64(m)*mag >= raw*(1-1e-9) {
			if m == 10 {
				return 10 * mag, 1
			}
			return float64(m) * mag, m
		}
	}
	return 10 * mag, 1
}

// logTicks are ticks for an axis of log10 values, labelled with the
// values: at 1, 2 and 5 times each power of ten when the range spans at
// most three decades (only the powers of ten beyond that), unlabelled at
// the other integer multiples.
type logTicks struct{}

func (logTicks) Ticks(loLog, hiLog float64) []plot.Tick {
	lo, hi := math.Pow(10, loLog), math.Pow(10, hiLog)
	if !(lo > 0 && hi > lo) {
		return nil
	}
	few := math.Log10(hi/lo) <= 3
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		mag := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * mag
			if v < lo || v > hi {
				continue
			}
			tk := plot.Tick{Value: math.Log10(v)}
			if m == 1 || few && (m == 2 || m == 5) {
				tk.Label = logLabel(v)
			}
			out = append(out, tk)
		}
	}
	return out
}

func logLabel(v float64) string {
	if v >= 1e-3 && v < 1e6 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// MessagePNG writes a chart-sized PNG with the title and lines of text in
// its middle: what a plot says when there is nothing to draw (a run
// without iterations, a single accuracy check), instead of empty axes.
func MessagePNG(path, title string, lines ...string) error {
	c := vgimg.New(chartW, chartH)
	dc := draw.New(c)
	area := inner(dc)
	p := newPlot(title)
	sty := p.Title.TextStyle
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YTop
	area.FillText(sty, vg.Point{X: area.Center().X, Y: area.Max.Y}, title)
	body := p.X.Label.TextStyle
	body.XAlign = draw.XCenter
	body.YAlign = draw.YCenter
	body.Color = color.Gray{Y: 0x40}
	lh := body.Height("Mg") * 1.5
	y := area.Center().Y + lh*vg.Length(len(lines)-1)/2
	for _, l := range lines {
		area.FillText(body, vg.Point{X: area.Center().X, Y: y}, l)
		y -= lh
	}
	return writeCanvas(path, c)
}

func savePlot(path string, p *plot.Plot, w, h vg.Length) error {
	c := vgimg.New(w, h)
	p.Draw(inner(draw.New(c)))
	return writeCanvas(path, c)
}

func writeCanvas(path string, c *vgimg.Canvas) error {
	return fileio.WriteAtomic(path, 0o644, func(out io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(out)
		return err
	})
}
