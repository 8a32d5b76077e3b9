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
	"github.com/tune-hpo/tune/suggest"
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

func TestBestAfter(t *testing.T) {
	src := mixed(t)
	tab := results.New(src.rec, src.trials)
	// Five rows: accuracy 0.7 (succeeded), 0.99 (failed), 0.65, 0.9, 0.95
	// (running). k = ⌈fraction·5⌉.
	for _, c := range []struct {
		fraction float64
		want     float64
		k        int
	}{{0.1, 0.7, 1}, {0.25, 0.7, 2}, {0.5, 0.7, 3}, {0.6, 0.7, 3}, {0.8, 0.9, 4}, {1, 0.9, 5}, {0, 0.7, 1}} {
		if got, k := tab.BestAfter(c.fraction); got != c.want || k != c.k {
			t.Errorf("BestAfter(%v) = %v after %d rows, want %v after %d", c.fraction, got, k, c.want, c.k)
		}
	}
	if v, k := results.New(src.rec, nil).BestAfter(0.5); !math.IsNaN(v) || k != 0 {
		t.Errorf("BestAfter of no rows = %v, %d; want NaN, 0", v, k)
	}
	if v, k := results.New(src.rec, src.trials[1:2]).BestAfter(1); !math.IsNaN(v) || k != 1 {
		t.Errorf("BestAfter with no counting row = %v, %d; want NaN, 1", v, k)
	}
}

func TestNear(t *testing.T) {
	minTab := &results.Table{Goal: suggest.Minimize}
	maxTab := &results.Table{Goal: suggest.Maximize}
	for _, c := range []struct {
		tab         *results.Table
		v, best     float64
		near        bool
		description string
	}{
		{minTab, 10.4, 10, true, "min, positive, within 5 %"},
		{minTab, 10.6, 10, false, "min, positive, beyond 5 %"},
		{minTab, -9.6, -10, true, "min, negative: -10 + 0.5"},
		{minTab, -9.4, -10, false, "min, negative, beyond"},
		{maxTab, 9.6, 10, true, "max, positive"},
		{maxTab, 9.4, 10, false, "max, positive, beyond"},
		{maxTab, -10.4, -10, true, "max, negative: -10 - 0.5"},
		{maxTab, -10.6, -10, false, "max, negative, beyond"},
		{minTab, 0, 0, true, "zero best: only as good"},
		{minTab, 1e-12, 0, false, "zero best: anything worse is not near"},
		{maxTab, -1e-12, 0, false, "zero best, max"},
	} {
		if got := c.tab.Near(c.v, c.best, 0.05); got != c.near {
			t.Errorf("%s: Near(%v, %v) = %v", c.description, c.v, c.best, got)
		}
	}
}

func TestTimeToNear(t *testing.T) {
	src := mixed(t)
	tab := results.New(src.rec, src.trials)
	t0 := src.trials[0].Created
	// Final best 0.9 (row 3, finished at t0 + 4 s + 4 min); within 5 %
	// means ≥ 0.855: only row 3.
	if i, d := tab.TimeToNear(0.05, t0); i != 3 || d != 4*time.Minute+4*time.Second {
		t.Errorf("TimeToNear(5 %%) = row %d after %v, want row 3 after 4m4s", i, d)
	}
	// Within 25 % (≥ 0.675): row 0 (0.7) finished first, at t0 + 1 s + 1 min.
	if i, d := tab.TimeToNear(0.25, t0); i != 0 || d != time.Minute+time.Second {
		t.Errorf("TimeToNear(25 %%) = row %d after %v, want row 0 after 1m1s", i, d)
	}
	// Finishing order, not creation order: row 3 finishing before row 0
	// makes it first.
	early := slices.Clone(src.trials)
	early[3].Finished = early[0].Finished.Add(-time.Second)
	if i, _ := results.New(src.rec, early).TimeToNear(0.25, t0); i != 3 {
		t.Errorf("TimeToNear ignores finishing order: row %d", i)
	}
	if i, _ := results.New(src.rec, src.trials[1:2]).TimeToNear(0.05, t0); i != -1 {
		t.Errorf("TimeToNear with no counting row = %d, want -1", i)
	}
}

func TestCurves(t *testing.T) {
	src := mixed(t)
	tab := results.New(src.rec, src.trials)
	log := func(m string, v float64, step int64) metrics.Log { return metrics.Log{Metric: m, Value: v, Step: step} }
	curves := tab.Curves([]metrics.Log{
		log("accuracy", 0.5, 1), log("loss", 0.9, 1), log("other", 7, 1),
		log("accuracy", 0.8, 2), log("loss", 0.3, 2), log("accuracy", math.NaN(), 3),
		log("accuracy", 0.6, 3), log("loss", 0.5, 3),
	})
	// accuracy is maximised (the objective), loss has strategy min.
	if got, want := curves["accuracy"], (results.Curve{First: 0.5, Best: 0.8, Last: 0.6, Steps: 3, LastStep: 3}); got != want {
		t.Errorf("accuracy curve = %+v, want %+v", got, want)
	}
	if got, want := curves["loss"], (results.Curve{First: 0.9, Best: 0.3, Last: 0.5, Steps: 3, LastStep: 3}); got != want {
		t.Errorf("loss curve = %+v, want %+v", got, want)
	}
	if _, ok := curves["other"]; ok || len(curves) != 2 {
		t.Errorf("curves = %v, want only the metrics of interest", curves)
	}
	if len(tab.Curves(nil)) != 0 {
		t.Error("curves of an empty log")
	}
}
