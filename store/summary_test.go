package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/tune-hpo/tune/experiment"
)

// summariesOf returns what ExperimentSummaries should say of recs.
func summariesOf(recs []experiment.Record) []ExperimentSummary {
	out := []ExperimentSummary{}
	for _, r := range recs {
		out = append(out, ExperimentSummary{Name: r.Name, Algorithm: r.Spec.Spec.Algorithm.AlgorithmName, Objective: r.Spec.Spec.Objective, Status: r.Status})
	}
	return out
}

// TestExperimentSummaries: summaries say what the records say, after
// UpdateExperiment and UpdateStatus too, and for experiments written
// before schema 3 (no summary); a damaged summary fails its experiment
// alone and is reported by Check; Recover rewrites it.
func TestExperimentSummaries(t *testing.T) {
	ctx := t.Context()
	s := openWith(t, "a", "b", "c")
	rec := sampleRecord("b")
	rec.Spec.Spec.Algorithm.AlgorithmName = "grid"
	rec.Spec.Spec.Objective.Type = "maximize"
	rec.Status.Phase = experiment.Running
	if err := s.UpdateExperiment(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateStatus(ctx, "c", experiment.Status{Phase: experiment.Succeeded, Trials: 3, TrialsSucceeded: 3}); err != nil {
		t.Fatal(err)
	}
	// "a" as a tune before schema 3 left it.
	db, err := bolt.Open(s.Path(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketExperiments)).Bucket([]byte("a")).Delete([]byte(keySummary))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	recs, err := s.Experiments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ExperimentSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(summariesOf(recs), got); diff != "" {
		t.Errorf("ExperimentSummaries (-records +summaries):\n%s", diff)
	}
	if got[1].Algorithm != "grid" || got[1].Objective.Type != "maximize" {
		t.Errorf("summary of b after UpdateExperiment = %+v", got[1])
	}

	// b's summary sealed for a: moved, so damaged.
	v, err := encodeValue(summaryOf(&rec.Spec), []byte("a"), []byte(keySummary))
	if err != nil {
		t.Fatal(err)
	}
	putRaw(t, s.Path(), v, bucketExperiments, "b", keySummary)
	got, err = s.ExperimentSummaries(ctx)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), `experiment "b": summary`) || len(got) != 2 {
		t.Errorf("ExperimentSummaries with b's damaged = %d, %v; want a and c and an error naming b's summary", len(got), err)
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Damaged) != 1 || !strings.Contains(rep.Damaged[0], `experiment "b": summary`) {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
	// A summary that decodes but disagrees with the record.
	other := sampleRecord("b")
	other.Spec.Spec.Algorithm.AlgorithmName = "bayesianoptimization"
	v, err = encodeValue(summaryOf(&other.Spec), []byte("b"), []byte(keySummary))
	if err != nil {
		t.Fatal(err)
	}
	putRaw(t, s.Path(), v, bucketExperiments, "b", keySummary)
	if rep, err := s.Check(ctx); err != nil || len(rep.Damaged) != 1 || !strings.Contains(rep.Damaged[0], "disagrees with the record") {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
	to := t.TempDir() + "/copy.db"
	if _, err := s.Recover(ctx, to); err != nil {
		t.Fatal(err)
	}
	c, err := Open(to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := c.Check(ctx); err != nil || len(rep.Damaged) > 0 {
		t.Fatalf("Check of the copy = %+v, %v", rep, err)
	}
	recs, err = c.Experiments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.ExperimentSummaries(ctx)
	if err != nil || cmp.Diff(summariesOf(recs), got) != "" {
		t.Errorf("ExperimentSummaries of the copy = %+v, %v", got, err)
	}
}
