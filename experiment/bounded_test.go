package experiment_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
)

// recordingSuggester is a listSuggester that records the N of each request.
type recordingSuggester struct {
	listSuggester
	mu sync.Mutex
	ns []int
}

func (s *recordingSuggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	s.mu.Lock()
	s.ns = append(s.ns, req.N)
	s.mu.Unlock()
	return s.listSuggester.Suggest(ctx, req)
}

// TestRunnerCapsSuggestionBatch: parallelTrialCount 2147483647 passes
// validation; without maxTrialCount Katib's formula asks for that many
// assignments at once, which the runner caps at MaxSuggestionBatch.
func TestRunnerCapsSuggestionBatch(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2147483647\n")
	if err := exp.Validate(); err != nil {
		t.Fatalf("the experiment must be valid: %v", err)
	}
	sugg := &recordingSuggester{listSuggester: listSuggester{[]string{"5", "4", "3", "2", "1"}}}
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: sugg, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonSuggestionEnd || status.Trials != 5 {
		t.Errorf("status %s (%s), %d trials; want Succeeded (%s), 5 trials", status.Phase, status.Reason, status.Trials, experiment.ReasonSuggestionEnd)
	}
	if len(sugg.ns) == 0 {
		t.Fatal("the suggester was never asked")
	}
	for i, n := range sugg.ns {
		if n < 1 || n > experiment.MaxSuggestionBatch {
			t.Errorf("request %d asked for %d assignments; want 1..%d", i, n, experiment.MaxSuggestionBatch)
		}
	}
}

// TestRunnerHugeParallelRandom runs random search (which allocates one
// assignment per requested trial) with parallelTrialCount 2147483647 and
// no maxTrialCount; the goal ends it after the first trial.
func TestRunnerHugeParallelRandom(t *testing.T) {
	exp := testExperimentGoal(t, "1e9", "  parallelTrialCount: 2147483647\n")
	exp.Spec.Parameters[0].FeasibleSpace.Min, exp.Spec.Parameters[0].FeasibleSpace.Max = "0", "10" // trials end at once
	if err := exp.Validate(); err != nil {
		t.Fatalf("the experiment must be valid: %v", err)
	}
	sugg, err := random.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: sugg, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonGoalReached {
		t.Errorf("status %s (%s): %s; want Succeeded (%s)", status.Phase, status.Reason, status.Message, experiment.ReasonGoalReached)
	}
	if n := len(st.trials["unit"]); n < 1 || n > experiment.MaxSuggestionBatch {
		t.Errorf("%d trials; want 1..%d (one capped batch)", n, experiment.MaxSuggestionBatch)
	}
	for _, tr := range st.trials["unit"] {
		if !tr.State.Final() {
			t.Errorf("trial %s left %s", tr.Name, tr.State)
		}
	}
}
