package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Slice draws the objective against each parameter of s, one panel per
// parameter in a grid of up to three columns: one point per trial with a
// value, later trials darker, the best trial as a red ring; log axes for
// Log parameters, categories for Categorical ones (points jittered within
// their category so that they do not hide each other).
func Slice(s *Study) (Figure, error) {
	idx := s.valued()
	if len(idx) == 0 {
		return nil, s.noData()
	}
	if len(s.Params) == 0 {
		return nil, fmt.Errorf("experiment %s: no parameter to plot", s.Name)
	}
	cols := min(3, len(s.Params))
	rows := (len(s.Params) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	var vals []float64
	for _, i := range idx {
		vals = append(vals, s.Trials[i].Value)
	}
	ylo, yhi := widen(finiteRange(vals))
	maxN := 1
	for _, t := range s.Trials {
		maxN = max(maxN, t.Number)
	}
	for j, prm := range s.Params {
		p := newPlot("")
		p.Y.Label.Text = s.Objective
		var xys plotter.XYs
		var shade []float64
		var bestXY plotter.XYs
		var xs []float64
		for _, i := range idx {
			t := &s.Trials[i]
			x := t.Params[j]
			if !finite(x) {
				continue
			}
			xs = append(xs, x)
			if prm.Scale == Categorical {
				x += jitter(t.Number)
			}
			xys = append(xys, plotter.XY{X: x, Y: t.Value})
			shade = append(shade, float64(t.Number)/float64(maxN))
			if i == s.Best {
				bestXY = plotter.XYs{{X: x, Y: t.Value}}
			}
		}
		if len(xys) > 0 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyleFunc = func(k int) draw.GlyphStyle {
				return glyph(draw.CircleGlyph{}, fade(colorTrial, 0.25+0.65*shade[k]), vg.Points(2.5))
			}
			p.Add(sc)
		}
		if bestXY != nil {
			sc, err := plotter.NewScatter(bestXY)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = glyph(draw.RingGlyph{}, colorBest, vg.Points(5))
			p.Add(sc)
		}
		setAxis(&p.X, prm, xs)
		p.Y.Min, p.Y.Max = ylo, yhi
		grid[j/cols][j%cols] = p
	}
	title := fmt.Sprintf("%s: slice (%s %s, best ringed)", s.Name, goalWord(s.Maximize), s.Objective)
	return &gridFigure{Title: title, Plots: grid}, nil
}

// jitter returns a deterministic offset in [-0.2, 0.2) for trial n.
func jitter(n int) float64 {
	// The fractional part of n·φ spreads evenly.
	f := float64(n) * 0.6180339887498949
	return (f-math.Floor(f))*0.4 - 0.2
}

// gridFigure is a title over a grid of plots with aligned axes.
type gridFigure struct {
	Title string
	Plots [][]*plot.Plot
}

// Draw implements Figure.
func (f *gridFigure) Draw(c draw.Canvas) {
	title := plot.New().Title
	title.Text = f.Title
	h := title.TextStyle.Rectangle(f.Title).Size().Y + title.Padding
	sty := title.TextStyle
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YTop
	c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - title.Padding/2}, f.Title)
	body := draw.Crop(c, 0, 0, 0, -h)
	tiles := draw.Tiles{Rows: len(f.Plots), Cols: len(f.Plots[0]), PadX: vg.Points(10), PadY: vg.Points(10), PadTop: vg.Points(2), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align(f.Plots, tiles, body)
	for r := range f.Plots {
		for k, p := range f.Plots[r] {
			if p != nil {
				p.Draw(canvases[r][k])
			}
		}
	}
}
