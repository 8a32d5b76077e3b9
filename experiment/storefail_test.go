package experiment_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// failingStore is a real bbolt store whose SaveTrials fails with ENOSPC from
// the failAt-th call on, as a full disk would make it.
type failingStore struct {
	*store.Store
	calls, failAt int64
}

func (f *failingStore) SaveTrials(ctx context.Context, exp string, writes []experiment.TrialWrite, st *experiment.Status) error {
	if atomic.AddInt64(&f.calls, 1) >= f.failAt {
		return &pathError{syscall.ENOSPC}
	}
	return f.Store.SaveTrials(ctx, exp, writes, st)
}

type pathError struct{ err error }

func (e *pathError) Error() string { return "write tune.db: " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// TestStoreFailureLeavesAResumableStore fails a write in the middle of an
// experiment: the runner stops launching, stops the running trial, reports
// the error, and the store it leaves opens and resumes to completion.
func TestStoreFailureLeavesAResumableStore(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 4\n")
	path := filepath.Join(t.TempDir(), "tune.db")
	real, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Calls: start 1 (x=1) and 2 (x=100, blocks) in one write; trial 1's
	// end with trial 3's start in the next, which fails while trial 2 runs.
	fs := &failingStore{Store: real, failAt: 2}
	ex := &scriptExecutor{}
	xs := listSuggester{[]string{"1", "100", "3", "4", "5", "6"}}
	r := &experiment.Runner{Store: fs, Suggester: xs, Executor: ex, TrialRoot: t.TempDir()}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Run error = %v, want the ENOSPC write error", err)
	}
	if status == nil || status.Phase != experiment.Failed || status.Reason != experiment.ReasonStoreError {
		t.Fatalf("status = %+v, want Failed/%s", status, experiment.ReasonStoreError)
	}
	if ex.active != 0 {
		t.Errorf("%d trials still running after the store failed", ex.active)
	}
	if len(ex.ran) != 2 {
		t.Errorf("trials launched: %v; want none after the failed write", ex.ran)
	}

	// The store opens, holds what was committed, and resumes.
	rec, err := real.Experiment(t.Context(), "unit")
	if err != nil {
		t.Fatalf("store unreadable after the failure: %v", err)
	}
	trials, err := real.Trials(t.Context(), "unit")
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 2 || trials[0].State != trial.Running || trials[1].State != trial.Running {
		t.Fatalf("stored trials after the failure: %+v; want trials 1 and 2 Running (trial 1's end was not written, trial 3 not created)", trials)
	}
	r.Store, r.Executor = real, &scriptExecutor{}
	status, err = r.Resume(t.Context(), rec, trials)
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.TrialsSucceeded != 4 || status.TrialsKilled != 2 {
		t.Errorf("after resume: %s/%s, %d succeeded, %d killed; want Succeeded, 4, 2 (the trials left Running, lost)", status.Phase, status.Reason, status.TrialsSucceeded, status.TrialsKilled)
	}
}
