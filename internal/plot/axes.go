package plot

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours shared by the kinds.
var (
	colorTrial   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colorBest    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colorFailed  = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colorStopped = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colorLine    = color.RGBA{R: 44, G: 160, B: 44, A: 255}
)

// axisScale returns the scale p's axis is drawn with for the values vals:
// Log only when every finite value is > 0.
func axisScale(p Param, vals []float64) Scale {
	if p.Scale != Log {
		return p.Scale
	}
	for _, v := range vals {
		if finite(v) && v <= 0 {
			return Linear
		}
	}
	return Log
}

// setAxis sets a's scale, range and ticks for parameter p whose values are
// vals, once the plotters are added: log axes for Log, one tick per
// category for Categorical, and a span around a single value.
func setAxis(a *plot.Axis, p Param, vals []float64) {
	a.Label.Text = p.Name
	switch axisScale(p, vals) {
	case Categorical:
		ticks := make(plot.ConstantTicks, len(p.Categories))
		for i, c := range p.Categories {
			ticks[i] = plot.Tick{Value: float64(i), Label: c}
		}
		a.Tick.Marker = ticks
		a.Min, a.Max = -0.5, math.Max(float64(len(p.Categories))-0.5, 0.5)
	case Log:
		lo, hi := finiteRange(vals)
		if !finite(lo) {
			lo, hi = 1, 10
		}
		if lo == hi {
			lo, hi = lo/2, hi*2
		}
		a.Scale = plot.LogScale{}
		a.Tick.Marker = logTicks{}
		a.Min, a.Max = lo, hi
	default:
		lo, hi := finiteRange(vals)
		if finite(lo) {
			a.Min, a.Max = widen(lo, hi)
		}
	}
}

// logTicks marks powers of ten as plot.LogTicks does, and falls back to
// the default ticks when the range holds fewer than two of them.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.LogTicks{Prec: -1}.Ticks(min, max)
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" && t.Value >= min && t.Value <= max {
			labelled++
		}
	}
	if labelled >= 2 {
		return ticks
	}
	return plot.DefaultTicks{}.Ticks(min, max)
}

// finiteRange returns the least and greatest finite value of vals, NaN
// when there is none.
func finiteRange(vals []float64) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for _, v := range vals {
		if !finite(v) {
			continue
		}
		if math.IsNaN(lo) || v < lo {
			lo = v
		}
		if math.IsNaN(hi) || v > hi {
			hi = v
		}
	}
	return lo, hi
}

// widen returns [lo, hi] padded by 5 % of its span, or a unit span around
// a single value.
func widen(lo, hi float64) (float64, float64) {
	if lo == hi {
		d := math.Max(math.Abs(lo)*0.1, 0.5)
		return lo - d, hi + d
	}
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}

// legendRoom returns [lo, hi] raised at the top by a third of its span,
// room for a legend in the top corner above the data.
func legendRoom(lo, hi float64) (float64, float64) {
	return lo, hi + (hi-lo)/3
}

// glyph returns a glyph style of shape s, colour c and radius r points.
func glyph(s draw.GlyphDrawer, c color.Color, r vg.Length) draw.GlyphStyle {
	return draw.GlyphStyle{Shape: s, Color: c, Radius: r}
}

// fade returns c with alpha a (0–1), premultiplied.
func fade(c color.Color, a float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.RGBA64{R: uint16(float64(r) * a), G: uint16(float64(g) * a), B: uint16(float64(b) * a), A: uint16(0xffff * a)}
}

// polylines draws groups of polylines, each group in one style, groups in
// order, without a plotter per line. Each line is its own stroke: the
// rasteriser's cost grows with the square of the edges a path has on one
// scanline, so one path of thousands of lines is far slower.
type polylines struct {
	Groups []lineGroup
}

// strokeBatch is how many polylines polylines strokes as one path; 1
// measured fastest for 5,000 parallel-coordinate lines (4 and 32: slower).
const strokeBatch = 1

// lineGroup is polylines sharing a style.
type lineGroup struct {
	Style draw.LineStyle
	Lines [][]plotter.XY
}

// Plot implements plot.Plotter.
func (pl *polylines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, g := range pl.Groups {
		c.SetLineStyle(g.Style)
		for start := 0; start < len(g.Lines); start += strokeBatch {
			var path vg.Path
			for _, l := range g.Lines[start:min(start+strokeBatch, len(g.Lines))] {
				for i, pt := range l {
					q := vg.Point{X: trX(pt.X), Y: trY(pt.Y)}
					if i == 0 {
						path.Move(q)
					} else {
						path.Line(q)
					}
				}
			}
			if len(path) > 0 {
				c.Stroke(path)
			}
		}
	}
}
