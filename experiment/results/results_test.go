package results_test

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/experiment/results"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// memReader serves one experiment and its trials.
type memReader struct {
	rec    *experiment.Record
	trials []trial.Trial
}

func (m memReader) Experiment(_ context.Context, name string) (*experiment.Record, error) {
	if name != m.rec.Name {
		return nil, experiment.ErrNotFound
	}
	return m.rec, nil
}

func (m memReader) Trials(context.Context, string) ([]trial.Trial, error) { return m.trials, nil }

func summary(vs ...float64) metrics.Summary {
	s := metrics.Summary{Count: len(vs), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, v := range vs {
		s.Min, s.Max, s.Latest = min(s.Min, v), max(s.Max, v), v
	}
	return s
}

func mixed(t *testing.T) memReader {
	t.Helper()
	data, err := os.ReadFile("testdata/mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.Parse(data, "mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(seq int, state trial.State, lr, layers, opt string, acc []float64, loss []float64) trial.Trial {
		tr := trial.Trial{Name: experiment.TrialName("mixed", seq), Seq: seq, State: state,
			Parameters: map[string]string{"lr": lr, "layers": layers, "optimizer": opt},
			Metrics:    map[string]metrics.Summary{}, Created: t0, Started: t0.Add(time.Duration(seq) * time.Second)}
		if state.Final() {
			tr.Finished = tr.Started.Add(time.Duration(seq) * time.Minute)
		}
		if acc != nil {
			tr.Metrics["accuracy"] = summary(acc...)
		}
		if loss != nil {
			tr.Metrics["loss"] = summary(loss...)
		}
		return tr
	}
	return memReader{
		rec: &experiment.Record{Name: "mixed", Spec: *exp},
		trials: []trial.Trial{
			mk(1, trial.Succeeded, "0.001", "3", "adam", []float64{0.5, 0.7}, []float64{0.9, 0.4, 0.6}),
			mk(2, trial.Failed, "0.01", "2", "sgd", []float64{0.99}, nil),
			mk(3, trial.Succeeded, "0.0005", "8", "sgd", []float64{0.6, 0.65}, nil),
			mk(4, trial.Succeeded, "0.05", "1", "adam", []float64{0.8, 0.9}, []float64{0.2}),
			mk(5, trial.Running, "0.002", "4", "sgd", []float64{0.95}, nil),
		},
	}
}

func TestLoad(t *testing.T) {
	src := mixed(t)
	tab, err := results.Load(t.Context(), src, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{tab.Space[0].Name, tab.Space[1].Name, tab.Space[2].Name}; !slices.Equal(got, []string{"lr", "layers", "optimizer"}) {
		t.Errorf("space = %v, want the spec's order", got)
	}
	if !slices.Equal(tab.Metrics, []string{"accuracy", "loss"}) || tab.Objective != "accuracy" {
		t.Errorf("metrics = %v, objective %q", tab.Metrics, tab.Objective)
	}
	r := tab.Rows[0]
	if v := r.Params[0]; !v.Numeric || v.Num != 0.001 || v.Text != "0.001" {
		t.Errorf("lr = %+v, want the number 0.001", v)
	}
	if v := r.Params[1]; !v.Numeric || v.Num != 3 {
		t.Errorf("layers = %+v, want the number 3", v)
	}
	if v := r.Params[2]; v.Numeric || v.Text != "adam" {
		t.Errorf("optimizer = %+v, want the category adam", v)
	}
	// Metrics by strategy: accuracy max (the objective's default when
	// maximising), loss min as configured.
	if r.Metrics["accuracy"] != 0.7 || r.Metrics["loss"] != 0.4 {
		t.Errorf("metrics = %v, want accuracy 0.7 (max), loss 0.4 (min)", r.Metrics)
	}
	if _, ok := tab.Rows[2].Metrics["loss"]; ok {
		t.Errorf("a metric never reported has a value: %v", tab.Rows[2].Metrics)
	}
	if d := r.Duration(time.Time{}); d != time.Minute {
		t.Errorf("duration = %v, want 1m", d)
	}
	if d := tab.Rows[4].Duration(tab.Rows[4].Trial.Started.Add(time.Hour)); d != time.Hour {
		t.Errorf("running trial's duration = %v, want the time since it started", d)
	}
	if _, err := results.Load(t.Context(), src, "other"); err == nil {
		t.Error("Load of a missing experiment succeeded")
	}
}

func TestBest(t *testing.T) {
	src := mixed(t)
	tab := results.New(src.rec, src.trials)
	// The failed trial's 0.99 and the running trial's 0.95 do not count.
	want := []float64{0.7, 0.7, 0.7, 0.9, 0.9}
	if got := tab.BestSoFar(); !slices.Equal(got, want) {
		t.Errorf("BestSoFar = %v, want %v", got, want)
	}
	if i := tab.Best(); i != 3 {
		t.Errorf("Best = %d, want 3", i)
	}
	ptrs := make([]*trial.Trial, len(src.trials))
	for i := range src.trials {
		ptrs[i] = &src.trials[i]
	}
	e := &src.rec.Spec
	if b := experiment.BestTrial(ptrs, tab.Objective, e.Goal(), e.Strategies()); b == nil || b.BestTrialName != tab.Rows[tab.Best()].Trial.Name {
		t.Errorf("Best disagrees with experiment.BestTrial (%v)", b)
	}
	if _, ok := tab.RankValue(&tab.Rows[1]); ok {
		t.Error("a failed trial's objective counts")
	}
	empty := results.New(src.rec, nil)
	if empty.Best() != -1 || len(empty.BestSoFar()) != 0 {
		t.Error("an experiment without trials has a best")
	}
	if first := results.New(src.rec, src.trials[1:2]).BestSoFar(); !math.IsNaN(first[0]) {
		t.Errorf("BestSoFar before any counting trial = %v, want NaN", first)
	}
	if tab.Param("layers") != 1 || tab.Param("nope") != -1 {
		t.Error("Param looks up the wrong index")
	}
}
