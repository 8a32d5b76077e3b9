package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/trial"
)

// recoveringExecutor is a scriptExecutor that also implements
// trial.Recoverer, recording the specs it was asked to recover.
type recoveringExecutor struct {
	scriptExecutor
	rmu       sync.Mutex
	recovered []*trial.Spec
	err       error
}

func (e *recoveringExecutor) Recover(_ context.Context, spec *trial.Spec) (string, error) {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	e.recovered = append(e.recovered, spec)
	return "process group 4242 was still running and was stopped", e.err
}

// crashedStore returns a store holding experiment "unit" as a runner that
// died would leave it: phase Running, trial 1 succeeded (x=5), trial 2
// still Running (x=4).
func crashedStore(t *testing.T, exp *experiment.Experiment) *memStore {
	t.Helper()
	st := newMemStore()
	loss := func(v float64) map[string]metrics.Summary {
		return map[string]metrics.Summary{"loss": {Count: 1, Min: v, Max: v, Latest: v}}
	}
	st.recs["unit"] = &experiment.Record{Name: "unit", Spec: *exp, Status: experiment.Status{Phase: experiment.Running, Reason: experiment.ReasonRunning, Created: time.Unix(1, 0).UTC(), Started: time.Unix(2, 0).UTC()}}
	st.trials["unit"] = []trial.Trial{
		{Name: "unit-0001", Seq: 1, Parameters: map[string]string{"x": "5"}, State: trial.Succeeded, Reason: "TrialSucceeded", Metrics: loss(5), Dir: t.TempDir()},
		{Name: "unit-0002", Seq: 2, Parameters: map[string]string{"x": "4"}, State: trial.Running, Dir: t.TempDir()},
	}
	return st
}

func TestResumeReplacesLostTrials(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 3\n")
	st := crashedStore(t, exp)
	ex := &recoveringExecutor{}
	var events []experiment.Event
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"5", "4", "3", "2", "1"}}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: func(ev experiment.Event) { events = append(events, ev) }}
	rec, _ := st.Experiment(t.Context(), "unit")
	trials, _ := st.Trials(t.Context(), "unit")
	status, err := r.Resume(t.Context(), rec, trials)
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Reason != experiment.ReasonMaxTrialsReached {
		t.Errorf("status = %s/%s (%s), want Succeeded/%s", status.Phase, status.Reason, status.Message, experiment.ReasonMaxTrialsReached)
	}
	// The lost trial was recovered through the executor with the spec it
	// was started with, and marked Killed/TrialLost.
	if len(ex.recovered) != 1 || ex.recovered[0].Name != "unit-0002" || ex.recovered[0].Dir != trials[1].Dir {
		t.Fatalf("recovered %+v, want unit-0002 in its own directory", ex.recovered)
	}
	lost := st.trials["unit"][1]
	if lost.State != trial.Killed || lost.Reason != experiment.TrialReasonLost || !strings.Contains(lost.Message, "4242 was still running and was stopped") {
		t.Errorf("lost trial = %s/%s %q", lost.State, lost.Reason, lost.Message)
	}
	// The finished trial was not run again; two new trials ran (x=3, x=2:
	// the lost trial keeps its place in the suggester's history).
	if want := []string{"unit-0003", "unit-0004"}; !slices.Equal(ex.ran, want) {
		t.Errorf("trials run on resume = %v, want %v", ex.ran, want)
	}
	var finished int
	for _, tr := range st.trials["unit"] {
		if tr.State.Final() && !experiment.Abandoned(&tr) {
			finished++
		}
	}
	if finished != 3 || status.Trials != 4 || status.TrialsKilled != 1 || status.TrialsSucceeded != 3 {
		t.Errorf("%d counted trials, status counts %+v; want 3 finished of 4, 1 killed", finished, status)
	}
	stored := st.recs["unit"].Status
	if !stored.Started.Equal(time.Unix(2, 0)) || slices.IndexFunc(stored.Conditions, func(c experiment.Condition) bool { return c.Reason == experiment.ReasonResumed }) < 0 {
		t.Errorf("stored status lost its start time or has no %s condition: %+v", experiment.ReasonResumed, stored)
	}
}

func TestResumeRecoverErrorStartsNothing(t *testing.T) {
	exp := testExperiment(t, "  maxTrialCount: 3\n")
	st := crashedStore(t, exp)
	ex := &recoveringExecutor{err: errors.New("permission denied")}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"5", "4", "3"}}, Executor: ex, TrialRoot: t.TempDir()}
	rec, _ := st.Experiment(t.Context(), "unit")
	trials, _ := st.Trials(t.Context(), "unit")
	if _, err := r.Resume(t.Context(), rec, trials); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err = %v, want the recover error", err)
	}
	if len(ex.ran) != 0 || st.trials["unit"][1].State != trial.Running {
		t.Errorf("after a failed recover: ran %v, trial 2 %s; want nothing run and nothing changed", ex.ran, st.trials["unit"][1].State)
	}
}

func TestResumeFinishedNeedsMoreBudget(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 2\n")
	st, _, status, _, err := run(t, exp, []string{"5", "4", "3"}, t.Context())
	if err != nil || status.Phase != experiment.Succeeded {
		t.Fatalf("first run: %v, %+v", err, status)
	}
	ex := &scriptExecutor{}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"5", "4", "3"}}, Executor: ex, TrialRoot: t.TempDir()}
	rec, _ := st.Experiment(t.Context(), "unit")
	trials, _ := st.Trials(t.Context(), "unit")
	before := st.recs["unit"].Status
	if _, err := r.Resume(t.Context(), rec, trials); !errors.Is(err, experiment.ErrFinished) || !strings.Contains(err.Error(), "maxTrialCount") {
		t.Fatalf("resume at the same budget: err = %v, want ErrFinished naming maxTrialCount", err)
	}
	if got := st.recs["unit"].Status; len(got.Conditions) != len(before.Conditions) || len(ex.ran) != 0 {
		t.Errorf("a refused resume wrote the status or ran trials")
	}
	// Raising the budget continues the experiment (Katib's LongRunning).
	three := int32(3)
	rec.Spec.Spec.MaxTrialCount = &three
	status, err = r.Resume(t.Context(), rec, trials)
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Succeeded || status.Trials != 3 || !slices.Equal(ex.ran, []string{"unit-0003"}) {
		t.Errorf("after raising maxTrialCount to 3: %s with %d trials, ran %v", status.Phase, status.Trials, ex.ran)
	}
	if got := *st.recs["unit"].Spec.Spec.MaxTrialCount; got != 3 {
		t.Errorf("stored maxTrialCount = %d, want the new budget 3", got)
	}
}

func TestResumeAfterInterrupt(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 3\n")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	xs := []string{"1", "100", "200", "3", "2"}
	st, _, status, _, err := run(t, exp, xs, ctx)
	if err != nil || status.Phase != experiment.Stopped {
		t.Fatalf("interrupted run: %v, %+v", err, status)
	}
	ex := &scriptExecutor{}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{xs}, Executor: ex, TrialRoot: t.TempDir()}
	rec, _ := st.Experiment(t.Context(), "unit")
	trials, _ := st.Trials(t.Context(), "unit")
	status, err = r.Resume(t.Context(), rec, trials)
	if err != nil {
		t.Fatal(err)
	}
	// Trial 1 finished before the interrupt; the two killed by it do not
	// count, so two more run to reach maxTrialCount=3.
	if status.Phase != experiment.Succeeded || status.TrialsSucceeded != 3 || status.TrialsKilled != 2 || len(ex.ran) != 2 {
		t.Errorf("after resume: %s, %d succeeded, %d killed, ran %v", status.Phase, status.TrialsSucceeded, status.TrialsKilled, ex.ran)
	}
}

func TestCheckResume(t *testing.T) {
	old := &experiment.Record{Name: "unit", Spec: *testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 3\n")}
	if err := experiment.CheckResume(old, testExperiment(t, "  parallelTrialCount: 4\n  maxTrialCount: 30\n  maxFailedTrialCount: 9\n")); err != nil {
		t.Errorf("budget-only change refused: %v", err)
	}
	changed := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 3\n")
	changed.Spec.Parameters[0].FeasibleSpace.Max = "2000"
	err := experiment.CheckResume(old, changed)
	if !errors.Is(err, experiment.ErrSpecChanged) {
		t.Fatalf("changed search space: err = %v, want ErrSpecChanged", err)
	}
	for _, want := range []string{"parameters", `"1000"`, `"2000"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("diff does not show %s:\n%v", want, err)
		}
	}
}

// attachingExecutor is a scriptExecutor whose workloads outlive the runner:
// Attach follows those named in alive and reports the others gone.
type attachingExecutor struct {
	recoveringExecutor
	alive    map[string]bool
	attached []string
}

func (e *attachingExecutor) Attach(ctx context.Context, spec *trial.Spec, stdout, stderr io.Writer) (trial.Result, error) {
	e.rmu.Lock()
	e.attached = append(e.attached, spec.Name)
	e.rmu.Unlock()
	if !e.alive[spec.Name] {
		return trial.Result{}, trial.ErrNotFound
	}
	fmt.Fprintln(stdout, "loss=0.5")
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func TestResumeAttachesToSurvivingWorkloads(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 4\n")
	st := crashedStore(t, exp)
	st.trials["unit"] = append(st.trials["unit"], trial.Trial{Name: "unit-0003", Seq: 3, Parameters: map[string]string{"x": "3"}, State: trial.Running, Dir: t.TempDir()})
	// The previous runner had recorded what trial 2 printed so far; Attach
	// prints it again.
	st.logs["unit-0002"] = []metrics.Log{{Metric: "loss", Value: 0.5}}
	ex := &attachingExecutor{alive: map[string]bool{"unit-0002": true}}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"5", "4", "3", "2", "1", "0"}}, Executor: ex, TrialRoot: t.TempDir()}
	rec, _ := st.Experiment(t.Context(), "unit")
	trials, _ := st.Trials(t.Context(), "unit")
	status, err := r.Resume(t.Context(), rec, trials)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ex.attached, []string{"unit-0002", "unit-0003"}) && !slices.Equal(ex.attached, []string{"unit-0003", "unit-0002"}) {
		t.Errorf("attached %v, want both running trials", ex.attached)
	}
	if len(ex.recovered) != 0 {
		t.Errorf("Recover called for %d trials of an attaching executor", len(ex.recovered))
	}
	got := st.trials["unit"]
	if got[1].State != trial.Succeeded || got[1].Metrics["loss"].Latest != 0.5 {
		t.Errorf("attached trial: %s with %+v, want Succeeded with the loss its workload reported", got[1].State, got[1].Metrics)
	}
	if logs := st.logs["unit-0002"]; len(logs) != 1 {
		t.Errorf("attached trial's observation log: %v, want the one value it printed, recorded once", logs)
	}
	if got[2].State != trial.Killed || got[2].Reason != experiment.TrialReasonLost {
		t.Errorf("trial whose workload is gone: %s/%s, want Killed/%s", got[2].State, got[2].Reason, experiment.TrialReasonLost)
	}
	// Trial 2 was followed, not run again; one trial replaces trial 3.
	if slices.Contains(ex.ran, "unit-0002") || status.Phase != experiment.Succeeded || status.TrialsSucceeded != 4 {
		t.Errorf("ran %v, status %s with %d succeeded; want unit-0002 not rerun and 4 succeeded", ex.ran, status.Phase, status.TrialsSucceeded)
	}
}

// TestRunnerStart checks that Start chooses between a new run and a
// resume from what the store holds and where the record comes from.
func TestRunnerStart(t *testing.T) {
	xs := []string{"5", "4", "3", "2", "1"}
	newRunner := func(st *memStore, events *[]experiment.Event) (*experiment.Runner, *recoveringExecutor) {
		ex := &recoveringExecutor{}
		return &experiment.Runner{Store: st, Suggester: listSuggester{xs}, Executor: ex, TrialRoot: t.TempDir(),
			OnEvent: func(ev experiment.Event) { *events = append(*events, ev) }}, ex
	}
	t.Run("new from file", func(t *testing.T) {
		exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 2\n")
		st := newMemStore()
		var events []experiment.Event
		r, ex := newRunner(st, &events)
		status, err := r.Start(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}, experiment.FromFile)
		if err != nil || status.Phase != experiment.Succeeded {
			t.Fatalf("Start = %v, %v; want Succeeded", status, err)
		}
		if len(ex.ran) != 2 || st.recs["unit"] == nil {
			t.Errorf("ran %v, stored %v; want two trials of a created experiment", ex.ran, st.recs["unit"])
		}
		for _, ev := range events {
			if ev.Kind == experiment.ExperimentResumed {
				t.Errorf("a new experiment reported ExperimentResumed")
			}
		}
	})
	t.Run("resume from file", func(t *testing.T) {
		exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 3\n")
		st := crashedStore(t, exp)
		var events []experiment.Event
		r, ex := newRunner(st, &events)
		status, err := r.Start(t.Context(), &experiment.Record{Name: "unit", Spec: *exp, SourcePath: "/new/place.yaml"}, experiment.FromFile)
		if err != nil || status.Phase != experiment.Succeeded {
			t.Fatalf("Start = %v, %v; want Succeeded", status, err)
		}
		if len(events) == 0 || events[0].Kind != experiment.ExperimentResumed || events[0].Status.Phase != experiment.Running || events[0].Trials != 2 {
			t.Errorf("first event = %+v, want ExperimentResumed from Running with 2 trials", events[0])
		}
		if want := []string{"unit-0003", "unit-0004"}; !slices.Equal(ex.ran, want) {
			t.Errorf("trials run = %v, want %v (the stored ones kept)", ex.ran, want)
		}
		if got := st.recs["unit"].SourcePath; got != "/new/place.yaml" {
			t.Errorf("stored source path = %q, want the file's", got)
		}
	})
	t.Run("file differs beyond budget", func(t *testing.T) {
		exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 3\n")
		st := crashedStore(t, exp)
		changed := testExperimentGoal(t, "0.5", "  parallelTrialCount: 1\n  maxTrialCount: 3\n")
		var events []experiment.Event
		r, ex := newRunner(st, &events)
		_, err := r.Start(t.Context(), &experiment.Record{Name: "unit", Spec: *changed}, experiment.FromFile)
		if !errors.Is(err, experiment.ErrSpecChanged) {
			t.Fatalf("Start = %v, want ErrSpecChanged", err)
		}
		if len(ex.ran) != 0 || st.recs["unit"].Status.Phase != experiment.Running || st.trials["unit"][1].State != trial.Running {
			t.Errorf("a refused resume ran %v or changed the store (phase %s)", ex.ran, st.recs["unit"].Status.Phase)
		}
	})
	t.Run("resume of a missing experiment", func(t *testing.T) {
		exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 2\n")
		var events []experiment.Event
		r, _ := newRunner(newMemStore(), &events)
		if _, err := r.Start(t.Context(), &experiment.Record{Name: "unit", Spec: *exp}, experiment.FromStore); !errors.Is(err, experiment.ErrNotFound) {
			t.Fatalf("Start = %v, want ErrNotFound", err)
		}
	})
	t.Run("finished", func(t *testing.T) {
		exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
		st := crashedStore(t, exp)
		st.recs["unit"].Status.Phase = experiment.Succeeded
		st.trials["unit"] = st.trials["unit"][:1]
		rec := *st.recs["unit"]
		var events []experiment.Event
		r, ex := newRunner(st, &events)
		status, err := r.Start(t.Context(), &rec, experiment.FromStore)
		if !errors.Is(err, experiment.ErrFinished) || status == nil || status.Phase != experiment.Succeeded {
			t.Fatalf("Start = %v, %v; want the stored Succeeded status and ErrFinished", status, err)
		}
		if len(ex.ran) != 0 {
			t.Errorf("a finished experiment ran %v", ex.ran)
		}
	})
}

// TestResumeRecordsAlgorithm: Resume writes the Runner's Algorithm into a
// status that has none (a record from before auto recorded its choice)
// and keeps one already recorded.
func TestResumeRecordsAlgorithm(t *testing.T) {
	for _, tc := range []struct{ stored, runner, want string }{
		{stored: "", runner: "bayesianoptimization", want: "bayesianoptimization"},
		{stored: "sobol", runner: "bayesianoptimization", want: "sobol"},
		{stored: "", runner: "", want: ""},
	} {
		exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 3\n")
		st := crashedStore(t, exp)
		st.recs["unit"].Status.Algorithm = tc.stored
		r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"5", "4", "3", "2", "1"}}, Executor: &recoveringExecutor{}, TrialRoot: t.TempDir(), Algorithm: tc.runner}
		rec, _ := st.Experiment(t.Context(), "unit")
		trials, _ := st.Trials(t.Context(), "unit")
		status, err := r.Resume(t.Context(), rec, trials)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.recs["unit"].Status.Algorithm; got != tc.want || status.Algorithm != tc.want {
			t.Errorf("stored %q, runner %q: status.algorithm stored %q, returned %q; want %q", tc.stored, tc.runner, got, status.Algorithm, tc.want)
		}
	}
}
