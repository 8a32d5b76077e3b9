package storegen_test

import (
	"path/filepath"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/internal/storegen"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// TestGenerate: a small generated store holds what Config says, its
// status counts agree with its trials, it checks sound, and Generate
// refuses to write over a file.
func TestGenerate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "g.db")
	c := storegen.Config{Trials: 60, Logs: 9, Experiments: 3, Seed: 1}
	if err := storegen.Generate(ctx, path, c); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Experiments(ctx)
	if err != nil || len(recs) != 4 || recs[0].Name != storegen.Big || recs[1].Name != "exp-0001" {
		t.Fatalf("Experiments = %d, %v", len(recs), err)
	}
	trials, err := s.Trials(ctx, storegen.Big)
	if err != nil || len(trials) != 60 {
		t.Fatalf("Trials = %d, %v", len(trials), err)
	}
	var want experiment.Status
	want.SetCounts(len(trials), func(i int) trial.State { return trials[i].State })
	if st := recs[0].Status; st.Trials != want.Trials || st.TrialsSucceeded != want.TrialsSucceeded || st.TrialsRunning != 4 || st.Phase != experiment.Running || st.CurrentOptimalTrial == nil {
		t.Errorf("status of %s = %+v, want the counts %+v, 4 running, a best trial", storegen.Big, st, want)
	}
	logs, err := s.Logs(ctx, storegen.Big, trials[0].Name)
	if err != nil || len(logs) > 9 {
		t.Errorf("Logs = %d, %v", len(logs), err)
	}
	if r, err := s.Check(ctx); err != nil || len(r.Damaged) > 0 || r.Trials != 75 {
		t.Errorf("Check = %+v, %v; want 75 sound trials", r, err)
	}
	if err := storegen.Generate(ctx, path, c); err == nil {
		t.Error("Generate over an existing file succeeded")
	}
}
