package importance

import (
	"fmt"
	"math"
	"slices"

	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/suggest"
)

// Input is what [Encode] made of an experiment's trials.
type Input struct {
	// X and Y are the rows for [Evaluate].
	X [][]float64
	Y []float64
	// Space is the space the columns of X follow: the table's, or the
	// parameters asked for.
	Space suggest.Space
	// Metric is the metric Y holds.
	Metric string
	// Skipped counts succeeded trials with the metric that were left out
	// because a parameter value is not in the space (an edited spec) or
	// the value is not finite.
	Skipped int
}

// Encode turns the table's succeeded trials that reported metric (the
// objective when metric is empty) into rows for [Evaluate]: numeric
// parameters on their unit coordinate, categorical ones as the index of
// their category. Only the parameters named in params are kept, in the
// space's order; all of them when params is empty.
func Encode(t *results.Table, metric string, params []string) (*Input, error) {
	if metric == "" {
		metric = t.Objective
	}
	if !slices.Contains(t.Metrics, metric) {
		return nil, fmt.Errorf("metric %q is not one of the experiment's metrics %q", metric, t.Metrics)
	}
	var cols []int
	for _, name := range params {
		if t.Param(name) < 0 {
			names := make([]string, len(t.Space))
			for i, p := range t.Space {
				names[i] = p.Name
			}
			return nil, fmt.Errorf("parameter %q is not one of the experiment's parameters %q", name, names)
		}
	}
	in := &Input{Metric: metric}
	for i, p := range t.Space {
		if len(params) == 0 || slices.Contains(params, p.Name) {
			cols = append(cols, i)
			in.Space = append(in.Space, p)
		}
	}
	for r := range t.Rows {
		row := &t.Rows[r]
		if _, ok := t.RankValue(row); !ok {
			continue
		}
		y, ok := row.Metrics[metric]
		if !ok {
			continue
		}
		x, ok := encodeRow(t.Space, row.Params, cols)
		if !ok || math.IsNaN(y) || math.IsInf(y, 0) {
			in.Skipped++
			continue
		}
		in.X = append(in.X, x)
		in.Y = append(in.Y, y)
	}
	return in, nil
}

func encodeRow(space suggest.Space, vals []results.Value, cols []int) ([]float64, bool) {
	x := make([]float64, len(cols))
	for k, i := range cols {
		p := space[i]
		if p.Type == suggest.Categorical {
			c := slices.Index(p.Values, vals[i].Text)
			if c < 0 {
				return nil, false
			}
			x[k] = float64(c)
			continue
		}
		u, err := p.ToUnit(vals[i].Text)
		if err != nil || math.IsNaN(u) {
			return nil, false
		}
		x[k] = u
	}
	return x, true
}
