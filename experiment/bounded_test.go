package experiment_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/random"
	"github.com/tune-hpo/tune/trial"
)

// recordingSuggester records the N of each request to its Suggester.
type recordingSuggester struct {
	suggest.Suggester
	mu sync.Mutex
	ns []int
}

func (s *recordingSuggester) Suggest(ctx context.Context, req suggest.Request) ([]suggest.Assignment, error) {
	s.mu.Lock()
	s.ns = append(s.ns, req.N)
	s.mu.Unlock()
	return s.Suggester.Suggest(ctx, req)
}

// checkBatches fails unless every request asked for 1 to MaxSuggestionBatch.
func (s *recordingSuggester) checkBatches(t *testing.T) {
	t.Helper()
	if len(s.ns) == 0 {
		t.Fatal("the suggester was never asked")
	}
	for i, n := range s.ns {
		if n < 1 || n > experiment.MaxSuggestionBatch {
			t.Errorf("request %d asked for %d assignments; want 1..%d", i, n, experiment.MaxSuggestionBatch)
		}
	}
}

// TestRunnerCapsSuggestionBatch: parallelTrialCount 2147483647 passes
// validation; without maxTrialCount Katib's formula asks for that many
// assignments at once, which the runner caps at MaxSuggestionBatch.
func TestRunnerCapsSuggestionBatch(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2147483647\n")
	if err := exp.Validate(); err != nil {
		t.Fatalf("the experiment must be valid: %v", err)
	}
	sugg := &recordingSuggester{Suggester: listSuggester{[]string{"5", "4", "3", "2", "1"}}}
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: sugg, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonSuggestionEnd || status.Trials != 5 {
		t.Errorf("status %s (%s), %d trials; want Succeeded (%s), 5 trials", status.Phase, status.Reason, status.Trials, experiment.ReasonSuggestionEnd)
	}
	sugg.checkBatches(t)
}

// TestRunnerHugeParallelRandom runs random search (which allocates one
// assignment per requested trial) with parallelTrialCount 2147483647 and
// no maxTrialCount; the goal ends it once the first trial finishes (a
// batch or two later, depending on the machine's speed).
func TestRunnerHugeParallelRandom(t *testing.T) {
	exp := testExperimentGoal(t, "1e9", "  parallelTrialCount: 2147483647\n")
	exp.Spec.Parameters[0].FeasibleSpace.Min, exp.Spec.Parameters[0].FeasibleSpace.Max = "0", "10" // trials end at once
	if err := exp.Validate(); err != nil {
		t.Fatalf("the experiment must be valid: %v", err)
	}
	rs, err := random.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	sugg := &recordingSuggester{Suggester: rs}
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: sugg, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonGoalReached {
		t.Errorf("status %s (%s): %s; want Succeeded (%s)", status.Phase, status.Reason, status.Message, experiment.ReasonGoalReached)
	}
	sugg.checkBatches(t)
	if got, want := len(st.trials["unit"]), len(sugg.ns)*experiment.MaxSuggestionBatch; got < 1 || got > want {
		t.Errorf("%d trials from %d requests; want 1..%d", got, len(sugg.ns), want)
	}
	for _, tr := range st.trials["unit"] {
		if !tr.State.Final() {
			t.Errorf("trial %s left %s", tr.Name, tr.State)
		}
	}
}

// metricFloodExecutor prints n lines "loss=… accuracy=…" as fast as it
// can, in two halves; between them it waits until the runner has flushed
// some of them to st, so that thinning meets values already stored.
type metricFloodExecutor struct {
	n  int
	st *store.Store
}

// floodLoss is the loss the flood reports at line i: its smallest value
// at line 1234, its largest at line 77, something between elsewhere.
func floodLoss(i int) float64 {
	switch i {
	case 1234:
		return 0.5
	case 77:
		return 5000
	}
	return 1000 + float64(i%97)
}

func (e metricFloodExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	w := bufio.NewWriter(stdout)
	for i := range e.n {
		fmt.Fprintf(w, "loss=%g accuracy=%d\n", floodLoss(i), i)
		if i == e.n/2 {
			w.Flush()
			for {
				logs, err := e.st.Logs(ctx, spec.Experiment, spec.Name)
				if err != nil {
					return trial.Result{}, err
				}
				if len(logs) > 0 {
					break
				}
				select {
				case <-ctx.Done():
					return trial.Result{}, ctx.Err()
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}
	w.Flush()
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

// TestRunnerBoundsObservations: a trial printing far more values than
// MaxObservations leaves at most that many per metric in the store, with
// the smallest, largest and latest among them, one warning, and the same
// value as if every value were kept.
func TestRunnerBoundsObservations(t *testing.T) {
	const n, maxObs = 20_000, 50
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
	st, err := store.Open(filepath.Join(t.TempDir(), "tune.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var warnings []string
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: metricFloodExecutor{n: n, st: st},
		TrialRoot: t.TempDir(), FlushInterval: 10 * time.Millisecond, MaxObservations: maxObs,
		OnEvent: func(ev experiment.Event) {
			if ev.Kind == experiment.Warning {
				warnings = append(warnings, ev.Message)
			}
		},
	}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	// Both metrics' strategy is min (the goal's default).
	if b := status.CurrentOptimalTrial; b == nil || b.Metrics["loss"] != 0.5 || b.Metrics["accuracy"] != 0 {
		t.Fatalf("best trial %+v; want loss 0.5 and accuracy 0, the minimums of every value", b)
	}
	tr, err := st.Trial(t.Context(), "unit", "unit-0001")
	if err != nil {
		t.Fatal(err)
	}
	if s := tr.Metrics["loss"]; s.Count != n || s.Min != 0.5 || s.Max != 5000 || s.Latest != floodLoss(n-1) {
		t.Errorf("loss summary %+v; want count %d, min 0.5, max 5000, latest %v", s, n, floodLoss(n-1))
	}
	logs, err := st.Logs(t.Context(), "unit", "unit-0001")
	if err != nil {
		t.Fatal(err)
	}
	byMetric := map[string][]float64{}
	for _, l := range logs {
		byMetric[l.Metric] = append(byMetric[l.Metric], l.Value)
	}
	for metric, want := range map[string][]float64{
		"loss":     {0.5, 5000, floodLoss(n - 1)},
		"accuracy": {0, n - 1},
	} {
		got := byMetric[metric]
		if len(got) > maxObs || len(got) < maxObs/3 {
			t.Errorf("%s: %d observations stored, want %d..%d", metric, len(got), maxObs/3, maxObs)
		}
		for _, v := range want {
			if !slices.Contains(got, v) {
				t.Errorf("%s: %v (smallest, largest or latest) not stored: %v", metric, v, got)
			}
		}
		if got[len(got)-1] != want[len(want)-1] {
			t.Errorf("%s: the last stored value is %v, want the latest, %v", metric, got[len(got)-1], want[len(want)-1])
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "more than 50 times") || !strings.Contains(warnings[0], "accuracy, loss") {
		t.Errorf("warnings %q; want one saying accuracy and loss were thinned beyond 50", warnings)
	}
}
