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

// curveDots is the most points Curves marks with a dot each.
const curveDots = 2000

// Curves draws each trial's intermediate values of metric against the
// step: completed trials as thin coloured lines, early-stopped ones dashed
// grey ending in an orange cross (where they were stopped), failed ones
// dotted red ending in a red cross, and the best trial thick red, on top.
// Each value is marked with a dot when there are at most 2,000 of them. A
// curve with one point is drawn as its marker. Non-finite points are left
// out.
func Curves(exp, metric string, curves []Curve) (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("%s: intermediate values of %s", exp, metric))
	p.X.Label.Text = "step"
	p.Y.Label.Text = metric
	palette := plotutil.SoftColors
	done := make([]lineGroup, len(palette))
	for i, c := range palette {
		done[i].Style = draw.LineStyle{Color: fade(c, 0.8), Width: vg.Points(0.8)}
	}
	stopped := lineGroup{Style: draw.LineStyle{Color: color.RGBA{R: 120, G: 120, B: 120, A: 200}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}}
	failed := lineGroup{Style: draw.LineStyle{Color: fade(colorFailed, 0.6), Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}}
	bestStyle := draw.LineStyle{Color: colorBest, Width: vg.Points(2.5)}
	var best []plotter.XY
	bestName := ""
	var stopEnds, failEnds, dots plotter.XYs
	var steps, vals []float64
	var first, last float64
	for i, c := range curves {
		var xys []plotter.XY
		for _, pt := range c.Points {
			if finite(pt.Step) && finite(pt.Value) {
				xys = append(xys, plotter.XY{X: pt.Step, Y: pt.Value})
				steps, vals = append(steps, pt.Step), append(vals, pt.Value)
			}
		}
		if len(xys) == 0 {
			continue
		}
		first += xys[0].Y
		last += xys[len(xys)-1].Y
		switch {
		case c.Best:
			best, bestName = xys, c.Trial
			continue
		case c.Status == EarlyStopped:
			stopped.Lines = append(stopped.Lines, xys)
			stopEnds = append(stopEnds, xys[len(xys)-1])
		case c.Status == Failed:
			failed.Lines = append(failed.Lines, xys)
			failEnds = append(failEnds, xys[len(xys)-1])
		default:
			g := &done[i%len(done)]
			g.Lines = append(g.Lines, xys)
		}
		dots = append(dots, xys...)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("experiment %s: no trial reported %s: %w", exp, metric, ErrNoData)
	}
	p.Add(&polylines{Groups: append(done, failed, stopped)})
	if len(vals) <= curveDots && len(dots) > 0 {
		sc, err := plotter.NewScatter(dots)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = glyph(draw.CircleGlyph{}, color.RGBA{R: 90, G: 90, B: 90, A: 160}, vg.Points(1.2))
		p.Add(sc)
	}
	if len(done[0].Lines) > 0 {
		p.Legend.Add("trial", &plotter.Line{LineStyle: done[0].Style})
	}
	for _, m := range []struct {
		name  string
		ends  plotter.XYs
		group lineGroup
		mark  color.Color
	}{{"early stopped", stopEnds, stopped, colorStopped}, {"failed / no final value", failEnds, failed, colorFailed}} {
		if len(m.ends) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(m.ends)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = glyph(draw.CrossGlyph{}, m.mark, vg.Points(2.5))
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("%s (%d)", m.name, len(m.ends)), &plotter.Line{LineStyle: m.group.Style}, sc)
	}
	if best != nil {
		l, s, err := plotter.NewLinePoints(plotter.XYs(best))
		if err != nil {
			return nil, err
		}
		l.LineStyle = bestStyle
		s.GlyphStyle = glyph(draw.CircleGlyph{}, colorBest, vg.Points(2.5))
		p.Add(l, s)
		p.Legend.Add("best: "+bestName, l)
	}
	// The legend goes where the curves are heading away from, with room
	// made for it.
	p.Legend.Top = last < first
	p.X.Min, p.X.Max = widen(finiteRange(steps))
	lo, hi := widen(finiteRange(vals))
	if p.Legend.Top {
		p.Y.Min, p.Y.Max = legendRoom(lo, hi)
	} else {
		p.Y.Max, p.Y.Min = legendRoom(hi, lo)
	}
	return p, nil
}
