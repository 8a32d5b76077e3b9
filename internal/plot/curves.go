package plot

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Point is one intermediate value: the metric's value at a step.
type Point struct {
	Step  float64
	Value float64
}

// Curve is one trial's intermediate values of a metric, in report order.
type Curve struct {
	Trial  string
	Status Status
	// Best marks the experiment's best trial.
	Best   bool
	Points []Point
}

// Curves draws each trial's intermediate values of metric against the
// step: completed trials as thin coloured lines, early-stopped ones dashed
// grey, failed ones dotted, and the best trial thick red, on top. A curve
// with one point is drawn as a dot. Non-finite points are left out.
func Curves(exp, metric string, curves []Curve) (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("%s: intermediate values of %s", exp, metric))
	p.X.Label.Text = "step"
	p.Y.Label.Text = metric
	var steps, vals []float64
	var top []plot.Plotter
	var legendStopped, legendFailed, legendDone bool
	for i, c := range curves {
		var xys plotter.XYs
		for _, pt := range c.Points {
			if finite(pt.Step) && finite(pt.Value) {
				xys = append(xys, plotter.XY{X: pt.Step, Y: pt.Value})
				steps, vals = append(steps, pt.Step), append(vals, pt.Value)
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = draw.LineStyle{Color: fade(plotutil.Color(i), 0.7), Width: vg.Points(0.8)}
		s.GlyphStyle = glyph(draw.CircleGlyph{}, l.LineStyle.Color, vg.Points(1.2))
		switch {
		case c.Best:
			l.LineStyle = draw.LineStyle{Color: colorBest, Width: vg.Points(2.5)}
			s.GlyphStyle = glyph(draw.CircleGlyph{}, colorBest, vg.Points(2.5))
			p.Legend.Add("best: "+c.Trial, l)
			top = append(top, l, s) // on top of the others
			continue
		case c.Status == EarlyStopped:
			l.LineStyle = draw.LineStyle{Color: color.RGBA{R: 120, G: 120, B: 120, A: 200}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}
			s.GlyphStyle = glyph(draw.CrossGlyph{}, colorStopped, vg.Points(2.5))
			// Only the last point is marked: where it was stopped.
			s.XYs = s.XYs[len(s.XYs)-1:]
			if !legendStopped {
				p.Legend.Add("early stopped", l, s)
				legendStopped = true
			}
		case c.Status == Failed:
			l.LineStyle = draw.LineStyle{Color: fade(colorFailed, 0.6), Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}
			s.GlyphStyle = glyph(draw.CrossGlyph{}, colorFailed, vg.Points(2))
			s.XYs = s.XYs[len(s.XYs)-1:]
			if !legendFailed {
				p.Legend.Add("failed / no final value", l)
				legendFailed = true
			}
		default:
			if !legendDone {
				p.Legend.Add("trial", l)
				legendDone = true
			}
		}
		p.Add(l, s)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("experiment %s: no trial reported %s: %w", exp, metric, ErrNoData)
	}
	p.Add(top...)
	// The legend goes where the curves are heading away from.
	var first, last float64
	for _, c := range curves {
		if n := len(c.Points); n > 0 && finite(c.Points[0].Value) && finite(c.Points[n-1].Value) {
			first += c.Points[0].Value
			last += c.Points[n-1].Value
		}
	}
	p.Legend.Top = last < first
	p.X.Min, p.X.Max = widen(finiteRange(steps))
	p.Y.Min, p.Y.Max = widen(finiteRange(vals))
	return p, nil
}
