package plot

import (
	"fmt"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// EDFSteps returns the empirical distribution function of the finite
// values of vals as its steps: xs sorted ascending and ys[i] = (i+1)/n, the
// fraction of values ≤ xs[i]. Equal values give one step each, so a run
// of k equal values rises by k/n at that value.
func EDFSteps(vals []float64) (xs, ys []float64) {
	for _, v := range vals {
		if finite(v) {
			xs = append(xs, v)
		}
	}
	slices.Sort(xs)
	ys = make([]float64, len(xs))
	for i := range xs {
		ys[i] = float64(i+1) / float64(len(xs))
	}
	return xs, ys
}

// EDF draws the empirical distribution function of the objective of the
// Complete trials of each study, one step line per study with a legend:
// at x, the fraction of its trials whose value is ≤ x. Studies should
// share the objective; the axis is labelled with the first one's.
func EDF(studies []*Study) (*plot.Plot, error) {
	if len(studies) == 0 {
		return nil, fmt.Errorf("edf: no experiment")
	}
	var names []string
	for _, s := range studies {
		names = append(names, s.Name)
	}
	p := newPlot(fmt.Sprintf("%s: empirical distribution of %s", strings.Join(names, ", "), studies[0].Objective))
	p.X.Label.Text = studies[0].Objective
	p.Y.Label.Text = "fraction of trials ≤ value"
	// Bottom right, which an EDF leaves empty.
	p.Legend.Top, p.Legend.Left = false, false
	var all []float64
	drawn := 0
	for k, s := range studies {
		var vals []float64
		for _, t := range s.Trials {
			if t.Status == Complete && finite(t.Value) {
				vals = append(vals, t.Value)
			}
		}
		xs, ys := EDFSteps(vals)
		if len(xs) == 0 {
			continue
		}
		all = append(all, xs...)
		// Start at 0 on the left of the first value.
		xys := plotter.XYs{{X: xs[0], Y: 0}}
		for i := range xs {
			xys = append(xys, plotter.XY{X: xs[i], Y: ys[i]})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: plotutil.Color(k), Width: vg.Points(1.8), Dashes: plotutil.Dashes(k)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.Name, len(xs)), l)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%s: %w among succeeded trials (objective %s)", strings.Join(names, ", "), ErrNoData, studies[0].Objective)
	}
	lo, hi := finiteRange(all)
	p.X.Min, p.X.Max = widen(lo, hi)
	p.Y.Min, p.Y.Max = 0, 1.02
	return p, nil
}
