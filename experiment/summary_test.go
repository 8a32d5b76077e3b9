package experiment_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
)

// pickyStore is a real bbolt store whose SaveTrials and UpdateStatus calls
// fail with ENOSPC when their number (counted from 1, per method) is in the
// chosen set.
type pickyStore struct {
	*store.Store
	mu                    sync.Mutex
	saves, updates        int
	failSaves, failStatus map[int]bool
}

func (p *pickyStore) SaveTrials(ctx context.Context, exp string, writes []experiment.TrialWrite, st *experiment.Status) error {
	p.mu.Lock()
	p.saves++
	fail := p.failSaves[p.saves]
	p.mu.Unlock()
	if fail {
		return &pathError{syscall.ENOSPC}
	}
	return p.Store.SaveTrials(ctx, exp, writes, st)
}

func (p *pickyStore) UpdateStatus(ctx context.Context, name string, st experiment.Status) error {
	p.mu.Lock()
	p.updates++
	fail := p.failStatus[p.updates]
	p.mu.Unlock()
	if fail {
		return &pathError{syscall.ENOSPC}
	}
	return p.Store.UpdateStatus(ctx, name, st)
}

func bestName(st *experiment.Status) string {
	if st.CurrentOptimalTrial == nil {
		return ""
	}
	return st.CurrentOptimalTrial.BestTrialName
}

// TestFailedWriteNeverReportedAsCommitted fails one chosen store write and
// checks that the status Run returns (what tune run's summary prints) holds
// only what the store committed, ends Failed with ReasonStoreError, and
// that Run returns the write's error. Before, the summary counted the
// trial whose end was never written (Succeeded, best) while the store had
// it Running, and a failed final status write still returned Succeeded.
func TestFailedWriteNeverReportedAsCommitted(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		extra, goal           string
		xs                    []string
		failSaves, failStatus []int
		// what the store holds after the run
		stored                     experiment.Phase
		succeeded, running, killed int
		best                       string
		unwritten                  bool
	}{
		// start 1; end 1 with start 2; end 2 (fails): trial 2 was better.
		{name: "last trial's end", extra: "  parallelTrialCount: 1\n  maxTrialCount: 2\n", xs: []string{"3", "1"},
			failSaves: []int{3}, stored: experiment.Failed, succeeded: 1, running: 1, best: "unit-0001"},
		// start 1 (blocks) and 2 in one write, end 2 reaches the goal, end 1
		// (killed) fails: the goal was reached, but not everything was written.
		{name: "a stopped trial's end after the goal", extra: "  parallelTrialCount: 2\n  maxTrialCount: 4\n", goal: "0.5", xs: []string{"100", "0"},
			failSaves: []int{3}, stored: experiment.Failed, succeeded: 1, running: 1, best: "unit-0002"},
		// Status writes: Running, then the final one fails once; the retry
		// records the failure.
		{name: "final status once", extra: "  parallelTrialCount: 1\n  maxTrialCount: 2\n", xs: []string{"3", "1"},
			failStatus: []int{2}, stored: experiment.Failed, succeeded: 2, best: "unit-0002"},
		// The final status cannot be written at all: the store keeps Running.
		{name: "final status always", extra: "  parallelTrialCount: 1\n  maxTrialCount: 2\n", xs: []string{"3", "1"},
			failStatus: []int{2, 3}, stored: experiment.Running, succeeded: 2, best: "unit-0002", unwritten: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := testExperimentGoal(t, tc.goal, tc.extra)
			real, err := store.Open(filepath.Join(t.TempDir(), "tune.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer real.Close()
			ps := &pickyStore{Store: real, failSaves: map[int]bool{}, failStatus: map[int]bool{}}
			for _, n := range tc.failSaves {
				ps.failSaves[n] = true
			}
			for _, n := range tc.failStatus {
				ps.failStatus[n] = true
			}
			r := &experiment.Runner{Store: ps, Suggester: listSuggester{tc.xs}, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
			status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Run error = %v, want the ENOSPC write error", err)
			}
			if status == nil || status.Phase != experiment.Failed || status.Reason != experiment.ReasonStoreError {
				t.Fatalf("returned status = %+v, want Failed/%s", status, experiment.ReasonStoreError)
			}
			if got := strings.Contains(status.Message, "could not be written"); got != tc.unwritten {
				t.Errorf("message %q: says the final status is unwritten = %v, want %v", status.Message, got, tc.unwritten)
			}

			rec, err := real.Experiment(t.Context(), "unit")
			if err != nil {
				t.Fatal(err)
			}
			trials, err := real.Trials(t.Context(), "unit")
			if err != nil {
				t.Fatal(err)
			}
			counts := map[trial.State]int{}
			ptrs := make([]*trial.Trial, len(trials))
			for i := range trials {
				counts[trials[i].State]++
				ptrs[i] = &trials[i]
			}
			storedBest := ""
			if b := experiment.BestTrial(ptrs, "loss", exp.Goal(), exp.Strategies()); b != nil {
				storedBest = b.BestTrialName
			}
			if counts[trial.Succeeded] != tc.succeeded || counts[trial.Running] != tc.running || storedBest != tc.best {
				t.Fatalf("stored trials: %v, best %q; want %d succeeded, %d running, best %q", counts, storedBest, tc.succeeded, tc.running, tc.best)
			}
			// The returned status is what tune run prints: the store's truth.
			if status.TrialsSucceeded != tc.succeeded || status.TrialsRunning != tc.running || bestName(status) != tc.best {
				t.Errorf("returned status: %d succeeded, %d running, best %q; the store has %d, %d, %q",
					status.TrialsSucceeded, status.TrialsRunning, bestName(status), tc.succeeded, tc.running, tc.best)
			}
			if rec.Status.Phase != tc.stored {
				t.Errorf("stored phase %s/%s, want %s", rec.Status.Phase, rec.Status.Reason, tc.stored)
			}
			if tc.stored == experiment.Failed && (rec.Status.Reason != experiment.ReasonStoreError || rec.Status.TrialsSucceeded != tc.succeeded || bestName(&rec.Status) != tc.best) {
				t.Errorf("stored status %s/%s, %d succeeded, best %q; want %s, %d, %q",
					rec.Status.Phase, rec.Status.Reason, rec.Status.TrialsSucceeded, bestName(&rec.Status), experiment.ReasonStoreError, tc.succeeded, tc.best)
			}
		})
	}
}
