package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
)

// clusterExecutor plays an executor whose workloads outlive tune: Run
// prints a first loss, says it started, and waits; stopped by its context
// it leaves the workload running when the cause is trial.ErrDetached (as
// trial/kube does) and deletes it otherwise. Attach finds the workloads
// left running and follows them to the end.
type clusterExecutor struct {
	started  chan string
	mu       sync.Mutex
	deleted  []string
	left     map[string]bool
	attached []string
}

func (e *clusterExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	fmt.Fprintln(stdout, "loss=0.7")
	e.started <- spec.Name
	<-ctx.Done()
	e.mu.Lock()
	defer e.mu.Unlock()
	if errorsIsDetached(ctx) {
		e.left[spec.Name] = true
		return trial.Result{State: trial.Running, Reason: "Detached"}, nil
	}
	e.deleted = append(e.deleted, spec.Name)
	return trial.Result{State: trial.Killed}, nil
}

func (e *clusterExecutor) Attach(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.attached = append(e.attached, spec.Name)
	if !e.left[spec.Name] {
		return trial.Result{}, trial.ErrNotFound
	}
	// The workload's whole output, from its start.
	fmt.Fprintln(stdout, "loss=0.7")
	fmt.Fprintln(stdout, "loss=0.5")
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

func errorsIsDetached(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), trial.ErrDetached)
}

// TestDetach: cancelled with trial.ErrDetached (tune's pod terminated),
// a runner whose executor can re-attach leaves its running trials alone:
// they stay Running in the store with the metrics reported so far, the
// experiment stays Running (ExperimentDetached), and a resume follows the
// same workloads to their end, counting each value once.
func TestDetach(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 2\n  maxTrialCount: 2\n")
	st := newMemStore()
	ex := &clusterExecutor{started: make(chan string, 2), left: map[string]bool{}}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"3", "5"}}, Executor: ex, TrialRoot: t.TempDir()}
	ctx, cancel := context.WithCancelCause(t.Context())
	done := make(chan struct{})
	var status *experiment.Status
	var err error
	go func() {
		defer close(done)
		status, err = r.Run(ctx, &experiment.Record{Name: "unit", Spec: *exp})
	}()
	<-ex.started
	<-ex.started
	cancel(trial.ErrDetached)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if status.Phase != experiment.Running || status.Reason != experiment.ReasonDetached {
		t.Errorf("status %s/%s, want Running/%s", status.Phase, status.Reason, experiment.ReasonDetached)
	}
	if len(ex.deleted) != 0 || len(ex.left) != 2 {
		t.Errorf("deleted %v, left %v; want both workloads left running", ex.deleted, ex.left)
	}
	for _, tr := range st.trials["unit"] {
		if tr.State != trial.Running || tr.Metrics["loss"].Latest != 0.7 || !tr.Finished.IsZero() {
			t.Errorf("trial %s: %s with %+v, finished %v; want Running with the loss so far", tr.Name, tr.State, tr.Metrics["loss"], tr.Finished)
		}
	}
	if rec := st.recs["unit"]; rec.Status.Phase != experiment.Running {
		t.Errorf("stored phase %s, want Running", rec.Status.Phase)
	}

	rec, _ := st.Experiment(t.Context(), "unit")
	trials, _ := st.Trials(t.Context(), "unit")
	status, err = r.Resume(t.Context(), rec, trials)
	if err != nil || status.Phase != experiment.Succeeded || status.TrialsSucceeded != 2 {
		t.Fatalf("resume: %v, %+v; want Succeeded with 2 trials", err, status)
	}
	if len(ex.attached) != 2 {
		t.Errorf("attached %v, want both", ex.attached)
	}
	for _, tr := range st.trials["unit"] {
		if m := tr.Metrics["loss"]; m.Latest != 0.5 || m.Count != 2 {
			t.Errorf("trial %s: %+v, want latest 0.5 from 2 values (nothing counted twice)", tr.Name, m)
		}
	}
}

// TestDetachWithoutAttach: an executor that cannot pick its trials up
// again (local processes) stops them, as for any interrupt.
func TestDetachWithoutAttach(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
	st := newMemStore()
	ex := &clusterExecutor{started: make(chan string, 1), left: map[string]bool{}}
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"3"}}, Executor: plainExecutor{ex}, TrialRoot: t.TempDir()}
	ctx, cancel := context.WithCancelCause(t.Context())
	go func() { <-ex.started; cancel(trial.ErrDetached) }()
	status, err := r.Run(ctx, &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil || status.Phase != experiment.Stopped || status.Reason != experiment.ReasonInterrupted {
		t.Fatalf("Run = %+v, %v; want Stopped/%s", status, err, experiment.ReasonInterrupted)
	}
}

// plainExecutor hides every optional interface of an executor.
type plainExecutor struct{ trial.Executor }
