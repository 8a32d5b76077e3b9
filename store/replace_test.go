package store_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// TestReplaceTrialLogs replaces one trial's observation log, with the
// trial and the status, and leaves the other trials' logs.
func TestReplaceTrialLogs(t *testing.T) {
	ctx := t.Context()
	s, err := store.Open(filepath.Join(t.TempDir(), "tune.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateExperiment(ctx, &experiment.Record{Name: "e", Status: experiment.Status{Phase: experiment.Running}}); err != nil {
		t.Fatal(err)
	}
	logs := func(vs ...float64) []metrics.Log {
		var out []metrics.Log
		for _, v := range vs {
			out = append(out, metrics.Log{Metric: "loss", Value: v, Step: -1})
		}
		return out
	}
	t1 := &trial.Trial{Name: "e-0001", Seq: 1, State: trial.Running}
	t2 := &trial.Trial{Name: "e-0002", Seq: 2, State: trial.Running}
	for _, tr := range []*trial.Trial{t1, t2} {
		if err := s.SaveTrial(ctx, "e", tr, logs(1, 2, 3), nil); err != nil {
			t.Fatal(err)
		}
	}
	t1.State = trial.Succeeded
	if err := s.ReplaceTrialLogs(ctx, "e", t1, logs(1, 3), &experiment.Status{Phase: experiment.Running, Trials: 2, TrialsSucceeded: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTrial(ctx, "e", t1, logs(4), nil); err != nil { // appends after a replace
		t.Fatal(err)
	}
	for name, want := range map[string][]float64{"e-0001": {1, 3, 4}, "e-0002": {1, 2, 3}} {
		got, err := s.Logs(ctx, "e", name)
		if err != nil {
			t.Fatal(err)
		}
		var vs []float64
		for _, l := range got {
			vs = append(vs, l.Value)
		}
		if len(vs) != len(want) || (len(vs) > 0 && (vs[0] != want[0] || vs[len(vs)-1] != want[len(want)-1])) {
			t.Errorf("%s: logs %v, want %v", name, vs, want)
		}
	}
	if tr, err := s.Trial(ctx, "e", "e-0001"); err != nil || tr.State != trial.Succeeded {
		t.Errorf("trial after replace: %+v, %v; want Succeeded", tr, err)
	}
	if rec, err := s.Experiment(ctx, "e"); err != nil || rec.Status.TrialsSucceeded != 1 {
		t.Errorf("status after replace: %+v, %v; want 1 succeeded", rec, err)
	}
	if err := s.ReplaceTrialLogs(ctx, "e", t2, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Logs(ctx, "e", "e-0002"); len(got) != 0 {
		t.Errorf("after replacing with nothing: %v, want no logs", got)
	}
	if err := s.ReplaceTrialLogs(ctx, "nope", t1, nil, nil); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("unknown experiment: %v, want ErrNotFound", err)
	}
}
