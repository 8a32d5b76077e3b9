package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Normalize maps the values of parameter p onto [0, 1] as its parallel
// coordinates axis lays them out: linearly between the least and greatest
// value, by logarithm for a Log axis (when every value is > 0), and
// category i of n at i/(n-1) for a Categorical one. A constant axis maps
// every value to 0.5; NaN stays NaN.
func Normalize(p Param, vals []float64) []float64 {
	out := make([]float64, len(vals))
	scale := axisScale(p, vals)
	tr := func(v float64) float64 { return v }
	if scale == Log {
		tr = math.Log
	}
	lo, hi := finiteRange(vals)
	if scale == Categorical {
		lo, hi = 0, float64(len(p.Categories)-1)
	}
	for i, v := range vals {
		switch {
		case !finite(v):
			out[i] = math.NaN()
		case hi <= lo:
			out[i] = 0.5
		default:
			out[i] = (tr(v) - tr(lo)) / (tr(hi) - tr(lo))
		}
	}
	return out
}

// colorMap returns the colour scale of objective values vals: the best
// end red, the worst blue, over a span that is never empty.
func colorMap(vals []float64, maximize bool) palette.ColorMap {
	cm := moreland.SmoothBlueRed()
	lo, hi := finiteRange(vals)
	if !finite(lo) {
		lo, hi = 0, 1
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	if maximize {
		return cm
	}
	return palette.Reverse(cm)
}

// colorAt returns the colour of v in cm, clamped to its range.
func colorAt(cm palette.ColorMap, v float64) color.Color {
	v = math.Max(cm.Min(), math.Min(cm.Max(), v))
	col, err := cm.At(v)
	if err != nil {
		return colorTrial
	}
	return col
}

// Parallel draws parallel coordinates: one vertical axis per parameter of
// s, in order, and the objective last; each trial with a value and every
// parameter set is a line across them coloured by its objective value
// (red best, blue worst; a colour bar on the right gives the scale). The
// best trials are drawn last, on top.
func Parallel(s *Study) (Figure, error) {
	idx := s.valued()
	if len(idx) == 0 {
		return nil, s.noData()
	}
	axes := append(slices.Clone(s.Params), Param{Name: s.Objective})
	cols := make([][]float64, len(axes))
	for j := range axes {
		cols[j] = make([]float64, len(idx))
		for k, i := range idx {
			if j < len(s.Params) {
				cols[j][k] = s.Trials[i].Params[j]
			} else {
				cols[j][k] = s.Trials[i].Value
			}
		}
	}
	norm := make([][]float64, len(axes))
	for j := range axes {
		norm[j] = Normalize(axes[j], cols[j])
	}
	obj := cols[len(axes)-1]
	cm := colorMap(obj, s.Maximize)
	// Worst first, so that the best lines end on top.
	order := make([]int, len(idx))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int {
		va, vb := obj[a], obj[b]
		switch {
		case va == vb:
			return 0
		case s.Maximize == (va < vb):
			return -1
		}
		return 1
	})
	p := newPlot(fmt.Sprintf("%s: parallel coordinates (%s %s)", s.Name, goalWord(s.Maximize), s.Objective))
	p.HideY()
	p.Y.Padding = 0
	alpha := 0.9
	if n := len(idx); n > 200 {
		alpha = math.Max(0.15, 0.9*math.Sqrt(200/float64(n)))
	}
	// Lines are grouped by colour band (one stroke per band), drawn worst
	// band first.
	const bands = 64
	lo, hi := cm.Min(), cm.Max()
	band := func(v float64) int {
		f := (v - lo) / (hi - lo)
		if !s.Maximize {
			f = 1 - f
		}
		return max(0, min(bands-1, int(f*bands)))
	}
	groups := make([]lineGroup, bands)
	for b := range groups {
		f := (float64(b) + 0.5) / bands
		if !s.Maximize {
			f = 1 - f
		}
		groups[b].Style = draw.LineStyle{Color: fade(colorAt(cm, lo+f*(hi-lo)), alpha), Width: vg.Points(1)}
	}
	for _, k := range order {
		xys := make([]plotter.XY, 0, len(axes))
		for j := range axes {
			if !finite(norm[j][k]) {
				xys = nil
				break
			}
			xys = append(xys, plotter.XY{X: float64(j), Y: norm[j][k]})
		}
		if xys != nil {
			b := band(obj[k])
			groups[b].Lines = append(groups[b].Lines, xys)
		}
	}
	p.Add(&polylines{Groups: groups})
	pa := &parallelAxes{Axes: axes, Cols: cols}
	p.Add(pa)
	ticks := make(plot.ConstantTicks, len(axes))
	for j, a := range axes {
		ticks[j] = plot.Tick{Value: float64(j), Label: a.Name}
	}
	p.X.Tick.Marker = ticks
	p.X.LineStyle.Width = 0
	p.X.Tick.LineStyle.Width = 0
	p.X.Min, p.X.Max = -0.1, float64(len(axes)-1)+0.6
	p.Y.Min, p.Y.Max = -0.03, 1.03
	return &barFigure{Main: p, Bar: colorBar(cm, s.Objective)}, nil
}

// parallelAxes draws the vertical axes of a parallel coordinates plot with
// their tick labels: each category, or the least, middle and greatest
// value.
type parallelAxes struct {
	Axes []Param
	Cols [][]float64
}

// Plot implements plot.Plotter.
func (pa *parallelAxes) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	sty := p.X.Tick.Label
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	for j, a := range pa.Axes {
		x := trX(float64(j))
		c.StrokeLine2(line, x, trY(0), x, trY(1))
		for _, t := range axisLabels(a, pa.Cols[j]) {
			y := trY(t.pos)
			c.StrokeLine2(line, x-vg.Points(2), y, x+vg.Points(2), y)
			c.FillText(sty, vg.Point{X: x + vg.Points(3), Y: y}, t.label)
		}
	}
}

// axisLabel is one labelled position on a normalised axis.
type axisLabel struct {
	pos   float64
	label string
}

// axisLabels returns the labels of parameter a's parallel axis over vals.
func axisLabels(a Param, vals []float64) []axisLabel {
	scale := axisScale(a, vals)
	if scale == Categorical {
		n := len(a.Categories)
		out := make([]axisLabel, n)
		for i, name := range a.Categories {
			pos := 0.5
			if n > 1 {
				pos = float64(i) / float64(n-1)
			}
			out[i] = axisLabel{pos, name}
		}
		return out
	}
	lo, hi := finiteRange(vals)
	if !finite(lo) {
		return nil
	}
	if lo == hi {
		return []axisLabel{{0.5, formatNum(lo)}}
	}
	mid := (lo + hi) / 2
	if scale == Log {
		mid = math.Sqrt(lo * hi)
	}
	return []axisLabel{{0, formatNum(lo)}, {0.5, formatNum(mid)}, {1, formatNum(hi)}}
}

// formatNum formats v with 4 significant digits.
func formatNum(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// colorBar returns a plot of a vertical colour bar for cm labelled label.
func colorBar(cm palette.ColorMap, label string) *plot.Plot {
	p := plot.New()
	p.HideX()
	p.X.Padding = 0
	p.Y.Padding = 0
	p.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	p.Y.Label.Text = label
	return p
}

// barFigure is a plot with a colour bar on its right.
type barFigure struct {
	Main, Bar *plot.Plot
}

// Draw implements Figure.
func (f *barFigure) Draw(c draw.Canvas) {
	w := c.Max.X - c.Min.X
	bw := min(vg.Points(64), w/4)
	f.Main.Draw(draw.Crop(c, 0, -bw, 0, 0))
	// Align the bar with the main plot's data area, below its title.
	top := f.Main.Title.TextStyle.Rectangle(f.Main.Title.Text).Size().Y + f.Main.Title.Padding
	bottom := f.Main.X.Tick.Label.Height("0") + f.Main.X.Tick.Length + f.Main.X.Label.TextStyle.Height("0")
	f.Bar.Draw(draw.Crop(c, w-bw+vg.Points(8), -vg.Points(4), bottom+vg.Points(8), -top-vg.Points(4)))
}
