package plot

import (
	"errors"
	"fmt"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Share is one parameter's importance: the share of the objective's
// variance it explains, in [0, 1].
type Share struct {
	Name  string
	Share float64
}

// Importance draws shares as horizontal bars, the most important on top,
// each labelled with its share. method names the computation, for the
// title. Non-finite shares are drawn as 0.
func Importance(exp, objective, method string, shares []Share) (Figure, error) {
	if len(shares) == 0 {
		return nil, errors.New("importance: no parameter to plot")
	}
	sorted := slices.Clone(shares)
	for i := range sorted {
		if !finite(sorted[i].Share) {
			sorted[i].Share = 0
		}
	}
	// Least first: the bar chart's first bar is at the bottom.
	slices.SortStableFunc(sorted, func(a, b Share) int {
		switch {
		case a.Share < b.Share:
			return -1
		case a.Share > b.Share:
			return 1
		}
		return 0
	})
	vals := make(plotter.Values, len(sorted))
	names := make([]string, len(sorted))
	labels := make([]string, len(sorted))
	var xys plotter.XYs
	hi := 0.0
	for i, s := range sorted {
		vals[i], names[i] = s.Share, s.Name
		labels[i] = " " + formatNum(s.Share)
		xys = append(xys, plotter.XY{X: s.Share, Y: float64(i)})
		hi = max(hi, s.Share)
	}
	p := newPlot(fmt.Sprintf("%s: parameter importance for %s (%s)", exp, objective, method))
	p.X.Label.Text = "share of variance"
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.Color = colorTrial
	bars.LineStyle = draw.LineStyle{}
	p.Add(bars)
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].YAlign = draw.YCenter
	}
	p.Add(lb)
	p.NominalY(names...)
	p.X.Min = 0
	p.X.Max = max(hi*1.2, 0.05)
	p.Y.Min, p.Y.Max = -0.6, float64(len(sorted))-0.4
	return &barsFigure{Plot: p, Bars: bars, N: len(sorted)}, nil
}

// barsFigure sizes a horizontal bar chart's bars to the canvas: 60 % of
// each row, at most 36 points.
type barsFigure struct {
	Plot *plot.Plot
	Bars *plotter.BarChart
	N    int
}

// Draw implements Figure.
func (f *barsFigure) Draw(c draw.Canvas) {
	h := f.Plot.DataCanvas(c).Size().Y
	f.Bars.Width = min(vg.Points(36), h/vg.Length(f.N)*0.6)
	f.Plot.Draw(c)
}
