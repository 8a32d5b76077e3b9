package plot

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// History draws the objective value of each trial against its number, the
// best value so far as a step line, early-stopped trials as orange
// triangles and trials without a value (failed, killed, metrics
// unavailable, running) as red crosses on the bottom edge.
func History(s *Study) (*plot.Plot, error) {
	idx := s.valued()
	if len(idx) == 0 {
		return nil, s.noData()
	}
	p := newPlot(fmt.Sprintf("%s: optimization history (%s %s)", s.Name, goalWord(s.Maximize), s.Objective))
	p.X.Label.Text = "trial"
	p.Y.Label.Text = s.Objective
	p.Legend.Top = true
	var done, stopped, best plotter.XYs
	var missing []float64
	var vals []float64
	maxN := 1
	for i := range s.Trials {
		t := &s.Trials[i]
		maxN = max(maxN, t.Number)
		x := float64(t.Number)
		if finite(t.BestSoFar) {
			best = append(best, plotter.XY{X: x, Y: t.BestSoFar})
		}
		switch {
		case !finite(t.Value):
			missing = append(missing, x)
			continue
		case t.Status == EarlyStopped:
			stopped = append(stopped, plotter.XY{X: x, Y: t.Value})
		case t.Status == Complete:
			done = append(done, plotter.XY{X: x, Y: t.Value})
		default:
			// A value without a final success (a running or failed
			// trial's last report) is drawn as stopped short.
			stopped = append(stopped, plotter.XY{X: x, Y: t.Value})
		}
		vals = append(vals, t.Value)
	}
	if len(best) > 0 {
		// Extend the best line to the last trial.
		if last := best[len(best)-1]; last.X < float64(maxN) {
			best = append(best, plotter.XY{X: float64(maxN), Y: last.Y})
		}
		l, err := plotter.NewLine(best)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: colorBest, Width: vg.Points(1.5)}
		p.Add(l)
		p.Legend.Add("best so far", l)
	}
	if len(done) > 0 {
		sc, err := plotter.NewScatter(done)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = glyph(draw.CircleGlyph{}, colorTrial, vg.Points(2.5))
		p.Add(sc)
		p.Legend.Add("trial", sc)
	}
	if len(stopped) > 0 {
		sc, err := plotter.NewScatter(stopped)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = glyph(draw.TriangleGlyph{}, colorStopped, vg.Points(3))
		p.Add(sc)
		p.Legend.Add("early stopped", sc)
	}
	if len(missing) > 0 {
		m := &edgeMarks{X: missing, Style: glyph(draw.CrossGlyph{}, colorFailed, vg.Points(3))}
		p.Add(m)
		p.Legend.Add(fmt.Sprintf("no value (%d)", len(missing)), m)
	}
	p.X.Min, p.X.Max = 0.5, float64(maxN)+0.5
	p.Y.Min, p.Y.Max = legendRoom(widen(finiteRange(vals)))
	return p, nil
}

// edgeMarks draws a glyph at each X on the bottom edge of the data area,
// whatever the Y range.
type edgeMarks struct {
	X     []float64
	Style draw.GlyphStyle
}

// Plot implements plot.Plotter.
func (m *edgeMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	y := c.Min.Y + m.Style.Radius
	for _, x := range m.X {
		if finite(x) {
			c.DrawGlyph(m.Style, vg.Point{X: trX(x), Y: y})
		}
	}
}

// Thumbnail implements plot.Thumbnailer.
func (m *edgeMarks) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(m.Style, c.Center())
}
