package plot

import (
	"fmt"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BestSoFar draws each study's best-so-far objective against the trial
// number, one line per study with a legend: how fast each search found
// its best. A study is drawn from its first trial with a value; one
// without any is named in the legend as "(no value)". The studies should
// share an objective and its direction; the title names the first's.
func BestSoFar(studies []*Study) (*plot.Plot, error) {
	if len(studies) == 0 {
		return nil, fmt.Errorf("best so far: no experiment")
	}
	names := make([]string, len(studies))
	for i, s := range studies {
		names[i] = s.Name
	}
	first := studies[0]
	p := newPlot(fmt.Sprintf("%s: best %s so far (%s)", strings.Join(names, ", "), first.Objective, goalWord(first.Maximize)))
	p.X.Label.Text = "trial"
	p.Y.Label.Text = "best " + first.Objective
	var all []float64
	maxN := 1
	for k, s := range studies {
		var xys plotter.XYs
		for _, t := range s.Trials {
			if finite(t.BestSoFar) {
				xys = append(xys, plotter.XY{X: float64(t.Number), Y: t.BestSoFar})
				all = append(all, t.BestSoFar)
			}
			maxN = max(maxN, t.Number)
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: plotutil.Color(k), Width: vg.Points(1.8), Dashes: plotutil.Dashes(k)}
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: %w among succeeded trials (objective %s)", strings.Join(names, ", "), ErrNoData, first.Objective)
	}
	lo, hi := finiteRange(all)
	p.Y.Min, p.Y.Max = widen(lo, hi)
	p.X.Min, p.X.Max = 0.5, float64(maxN)+0.5
	p.Legend.Top = !first.Maximize
	return p, nil
}
