// Package results turns a stored experiment into the table its comparisons
// read: one row per trial, in creation order, with each parameter's value
// typed by the search space and each metric's value chosen by its
// strategy. tune get trials, export, compare, plot, importance and ui read
// experiments through it, so that every view shows the same numbers as the
// runner's currentOptimalTrial. It only reads.
package results

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
	"github.com/tune-hpo/tune/trial"
)

// Reader is the part of a store results reads (store.Store has it).
type Reader interface {
	// Experiment returns the named experiment; experiment.ErrNotFound if
	// absent.
	Experiment(ctx context.Context, name string) (*experiment.Record, error)
	// Trials returns the experiment's trials in creation order.
	Trials(ctx context.Context, exp string) ([]trial.Trial, error)
}

// Table is one experiment's trials with their typed values.
type Table struct {
	// Experiment is the stored record: spec, source and status.
	Experiment *experiment.Record
	// Space holds the parameters, in the spec's order; Row.Params follow
	// it.
	Space suggest.Space
	// Objective is the objective metric's name and Goal its direction.
	Objective string
	Goal      suggest.Goal
	// Metrics are the metrics of interest: the objective first, then the
	// additional metrics, in the spec's order.
	Metrics []string
	// Strategies choose each metric's value from its summary.
	Strategies map[string]metrics.Strategy
	// Outputs are the values the experiment's algorithm adds to each
	// assignment besides the parameters (pbt's lineage), read from
	// Row.Trial.Parameters.
	Outputs []algorithms.Output
	// Rows are the trials in creation order.
	Rows []Row
}

// Row is one trial.
type Row struct {
	// Trial is the stored trial.
	Trial trial.Trial
	// Params holds the trial's value of each parameter of Table.Space, at
	// the same index.
	Params []Value
	// Metrics holds each reported metric's value chosen by its strategy;
	// a metric the trial never reported is absent.
	Metrics map[string]float64
}

// Value is one parameter value: its text as assigned, and its number when
// the parameter is numeric (int, double, or discrete with numeric values).
type Value struct {
	Text    string
	Num     float64
	Numeric bool
}

// Load reads the experiment named name and its trials from r.
func Load(ctx context.Context, r Reader, name string) (*Table, error) {
	rec, err := r.Experiment(ctx, name)
	if err != nil {
		return nil, err
	}
	trials, err := r.Trials(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: read trials: %w", name, err)
	}
	return New(rec, trials), nil
}

// New builds the table of experiment rec whose trials, in creation order,
// are trials.
func New(rec *experiment.Record, trials []trial.Trial) *Table {
	e := &rec.Spec
	t := &Table{
		Experiment: rec,
		Space:      e.Space(),
		Objective:  e.Spec.Objective.ObjectiveMetricName,
		Goal:       e.Goal(),
		Metrics:    e.MetricNames(),
		Strategies: e.Strategies(),
		Outputs:    e.Outputs(),
		Rows:       make([]Row, len(trials)),
	}
	for i := range trials {
		tr := trials[i]
		row := Row{Trial: tr, Params: make([]Value, len(t.Space)), Metrics: experiment.TrialMetrics(&tr, t.Strategies)}
		for j, p := range t.Space {
			row.Params[j] = parseValue(p, tr.Parameters[p.Name])
		}
		t.Rows[i] = row
	}
	return t
}

// parseValue types text as a value of p.
func parseValue(p suggest.Param, text string) Value {
	v := Value{Text: text}
	if p.Type == suggest.Categorical {
		return v
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		v.Num, v.Numeric = f, true
	}
	return v
}

// RankValue returns the row's objective value and whether it counts for
// ranking: the trial Succeeded and reported the objective. It is the value
// experiment.BestTrial ranks by.
func (t *Table) RankValue(r *Row) (float64, bool) {
	if r.Trial.State != trial.Succeeded {
		return math.NaN(), false
	}
	v, ok := r.Metrics[t.Objective]
	return v, ok
}

// BestSoFar returns, for each row in creation order, the best objective
// value among the rows up to it that count ([Table.RankValue]); NaN before
// the first.
func (t *Table) BestSoFar() []float64 {
	out := make([]float64, len(t.Rows))
	best := math.NaN()
	for i := range t.Rows {
		if v, ok := t.RankValue(&t.Rows[i]); ok && t.Goal.Better(v, best) {
			best = v
		}
		out[i] = best
	}
	return out
}

// Best returns the index of the best row by experiment.BestTrial's rule
// (the earliest on ties), or -1 when no trial counts.
func (t *Table) Best() int {
	best, bestValue := -1, math.NaN()
	for i := range t.Rows {
		if v, ok := t.RankValue(&t.Rows[i]); ok && t.Goal.Better(v, bestValue) {
			best, bestValue = i, v
		}
	}
	return best
}

// BestText returns, when no row counts for [Table.Best], the index of the
// last row that Succeeded with the objective reported only as text (as
// DARTS's Best-Genotype), which experiment.BestTrial then takes as the
// best, as Katib does; -1 otherwise.
func (t *Table) BestText() int {
	if t.Best() >= 0 {
		return -1
	}
	best := -1
	for i := range t.Rows {
		if _, ok := experiment.ObjectiveText(&t.Rows[i].Trial, t.Objective); ok {
			best = i
		}
	}
	return best
}

// Param returns the index in Space of the parameter named name, or -1.
func (t *Table) Param(name string) int {
	for i, p := range t.Space {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// Duration is how long the trial's workload ran: from Started to Finished,
// or to now while it runs; zero when it never started.
func (r *Row) Duration(now time.Time) time.Duration {
	switch {
	case r.Trial.Started.IsZero():
		return 0
	case r.Trial.Finished.IsZero():
		return now.Sub(r.Trial.Started)
	}
	return r.Trial.Finished.Sub(r.Trial.Started)
}

// MetricGoal is the direction in which metric's values are better: the
// objective's goal for the objective; for another metric, Minimize when
// its strategy is min, Maximize when it is max, and the objective's goal
// otherwise (latest).
func (t *Table) MetricGoal(metric string) suggest.Goal {
	if metric == t.Objective {
		return t.Goal
	}
	switch t.Strategies[metric] {
	case metrics.Min:
		return suggest.Minimize
	case metrics.Max:
		return suggest.Maximize
	}
	return t.Goal
}

// Curve summarises one metric's values in a trial's observation log.
type Curve struct {
	// First and Last are the first and last values in log order; Best is
	// the best by [Table.MetricGoal].
	First float64 `json:"first"`
	Best  float64 `json:"best"`
	Last  float64 `json:"last"`
	// Steps is the number of values; LastStep the last value's step, -1
	// when the source gave none.
	Steps    int   `json:"steps"`
	LastStep int64 `json:"lastStep"`
}

// Curves summarises logs, one trial's observation log in the order it was
// saved, per metric: every metric of t.Metrics with at least one finite
// value, and no other. NaN and ±Inf entries are skipped.
func (t *Table) Curves(logs []metrics.Log) map[string]Curve {
	out := map[string]Curve{}
	wanted := make(map[string]bool, len(t.Metrics))
	for _, m := range t.Metrics {
		wanted[m] = true
	}
	for _, l := range logs {
		if !wanted[l.Metric] || l.Text != "" || math.IsNaN(l.Value) || math.IsInf(l.Value, 0) {
			continue
		}
		c, ok := out[l.Metric]
		if !ok {
			c = Curve{First: l.Value, Best: l.Value}
		} else if t.MetricGoal(l.Metric).Better(l.Value, c.Best) {
			c.Best = l.Value
		}
		c.Last, c.LastStep = l.Value, l.Step
		c.Steps++
		out[l.Metric] = c
	}
	return out
}

// BestAfter returns the best objective value among the first k rows in
// creation order ([Table.BestSoFar] at row k-1), with k = ⌈fraction·n⌉
// for the table's n rows, at least 1 and at most n; and k. The value is
// NaN when none of those rows counts, and k is 0 when the table is empty.
func (t *Table) BestAfter(fraction float64) (float64, int) {
	n := len(t.Rows)
	if n == 0 {
		return math.NaN(), 0
	}
	k := min(max(int(math.Ceil(fraction*float64(n)-1e-9)), 1), n)
	best := math.NaN()
	for i := range k {
		if v, ok := t.RankValue(&t.Rows[i]); ok && t.Goal.Better(v, best) {
			best = v
		}
	}
	return best, k
}

// Near reports whether v is within the relative tolerance tol of best
// under the table's goal: v ≤ best + tol·|best| when minimising, v ≥ best
// − tol·|best| when maximising. With best = 0 only values at least as good
// as best are near.
func (t *Table) Near(v, best, tol float64) bool {
	if t.Goal == suggest.Maximize {
		return v >= best-tol*math.Abs(best)
	}
	return v <= best+tol*math.Abs(best)
}

// TimeToNear returns the index of the row that first brought the best
// value so far within tol of the final best ([Table.Near]), in the order
// the rows finished (creation order on equal times), and the time from
// start to its Finished time. It returns -1 when no row counts
// ([Table.RankValue]).
func (t *Table) TimeToNear(tol float64, start time.Time) (int, time.Duration) {
	b := t.Best()
	if b < 0 {
		return -1, 0
	}
	best, _ := t.RankValue(&t.Rows[b])
	first := -1
	for i := range t.Rows {
		v, ok := t.RankValue(&t.Rows[i])
		if !ok || !t.Near(v, best, tol) {
			continue
		}
		if first < 0 || t.Rows[i].Trial.Finished.Before(t.Rows[first].Trial.Finished) {
			first = i
		}
	}
	return first, t.Rows[first].Trial.Finished.Sub(start)
}
