package experiment_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/trial"
)

// stepExecutor runs a trial in two steps: it prints loss=x+10, then waits
// for its release channel (or its end) before printing loss=x and
// succeeding.
type stepExecutor struct {
	release map[string]chan struct{} // by trial name
}

func (e stepExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	fmt.Fprintf(stdout, "loss=%g\n", x+10)
	select {
	case <-e.release[spec.Name]:
	case <-ctx.Done():
		return trial.Result{State: trial.Killed}, nil
	}
	fmt.Fprintf(stdout, "loss=%g\n", x)
	code := 0
	return trial.Result{State: trial.Succeeded, ExitCode: &code}, nil
}

// TestRunnerReportsTrialProgress: while trials run, TrialProgress events
// carry each running trial's latest values (from the trial's own output)
// and when they were reported, in creation order per flush, and none comes
// for a trial once it finished.
func TestRunnerReportsTrialProgress(t *testing.T) {
	exp := testExperiment(t, "  maxTrialCount: 2\n  parallelTrialCount: 2\n")
	st := newMemStore()
	ex := stepExecutor{release: map[string]chan struct{}{"unit-0001": make(chan struct{}), "unit-0002": make(chan struct{})}}
	start := time.Now()
	var (
		seen     = map[string]bool{} // trials whose first value a progress event showed
		finished = map[string]bool{}
		released bool
		order    []string // trials of the progress events before the release
	)
	onEvent := func(ev experiment.Event) {
		switch ev.Kind {
		case experiment.TrialFinished:
			finished[ev.Trial.Name] = true
		case experiment.TrialProgress:
			name := ev.Trial.Name
			if finished[name] {
				t.Errorf("TrialProgress for %s after it finished", name)
			}
			if ev.Trial.State != trial.Running {
				t.Errorf("TrialProgress for %s in state %s", name, ev.Trial.State)
			}
			if !released {
				order = append(order, name)
			}
			loss, ok := ev.Trial.Metrics["loss"]
			if !ok {
				if !ev.Reported.IsZero() {
					t.Errorf("%s: Reported %v without a value", name, ev.Reported)
				}
				return
			}
			// Before the release a trial has printed x+10 alone; after it,
			// a flush may come between its second value, x, and its end.
			first := map[string]float64{"unit-0001": 11, "unit-0002": 12}[name]
			switch {
			case loss.Latest == first && loss.Count == 1:
			case released && loss.Latest == first-10 && loss.Count == 2 && loss.Max == first:
			default:
				t.Errorf("%s: progress loss %+v, want one value %v (or, after the release, %v after it)", name, loss, first, first-10)
			}
			if ev.Reported.Before(start.Add(-time.Second)) || ev.Reported.After(time.Now()) {
				t.Errorf("%s: Reported %v, not during the run (started %v)", name, ev.Reported, start)
			}
			seen[name] = true
			if seen["unit-0001"] && seen["unit-0002"] && !released {
				released = true
				close(ex.release["unit-0001"])
				close(ex.release["unit-0002"])
			}
		}
	}
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"1", "2"}}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: onEvent, FlushInterval: 5 * time.Millisecond,
	}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil || status.TrialsSucceeded != 2 {
		t.Fatalf("Run: %v, %+v", err, status)
	}
	if !released {
		t.Fatal("no TrialProgress event showed both running trials' first values")
	}
	// Both trials run at every flush before the release: each flush
	// reports unit-0001, then unit-0002.
	for i, name := range order {
		if want := []string{"unit-0001", "unit-0002"}[i%2]; name != want {
			t.Fatalf("progress event %d is for %s, want %s: %v", i, name, want, order)
		}
	}
}

// statusExecutor reports a condition through OnStatus, waits for its
// release, clears the condition and succeeds with loss=x.
type statusExecutor struct{ release chan struct{} }

func (e statusExecutor) Run(ctx context.Context, spec *trial.Spec, stdout, _ io.Writer) (trial.Result, error) {
	x, err := argX(spec)
	if err != nil {
		return trial.Result{}, err
	}
	spec.OnStatus("ImagePullBackOff", `Back-off pulling image "x"`)
	select {
	case <-e.release:
	case <-ctx.Done():
		return trial.Result{State: trial.Killed}, nil
	}
	spec.OnStatus("", "")
	fmt.Fprintf(stdout, "loss=%g\n", x)
	return trial.Result{State: trial.Succeeded}, nil
}

// TestRunnerReportsTrialStatus: a condition the executor reports reaches
// the store (the running trial's reason and message) and comes as a
// TrialStatus event, then its clearing does too, before the trial ends.
func TestRunnerReportsTrialStatus(t *testing.T) {
	exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 1\n")
	st := newMemStore()
	ex := statusExecutor{release: make(chan struct{})}
	var statuses []string
	var stored []string
	onEvent := func(ev experiment.Event) {
		switch ev.Kind {
		case experiment.TrialStatus:
			if ev.Trial.State != trial.Running {
				t.Errorf("TrialStatus for a trial in state %s", ev.Trial.State)
			}
			statuses = append(statuses, ev.Trial.Reason+": "+ev.Trial.Message)
			ts, err := st.Trials(context.Background(), "unit")
			if err != nil || len(ts) != 1 {
				t.Fatalf("stored trials %v, %v", ts, err)
			}
			stored = append(stored, ts[0].Reason+": "+ts[0].Message)
			if len(statuses) == 1 {
				close(ex.release)
			}
		case experiment.TrialFinished:
			statuses = append(statuses, "finished "+string(ev.Trial.State))
		}
	}
	r := &experiment.Runner{
		Store: st, Suggester: listSuggester{[]string{"1"}}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: onEvent, FlushInterval: 5 * time.Millisecond,
	}
	status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
	if err != nil || status.TrialsSucceeded != 1 {
		t.Fatalf("Run: %v, %+v", err, status)
	}
	// The clearing may come at a flush, or not before the trial ends
	// (then the final state says it all).
	want := []string{`ImagePullBackOff: Back-off pulling image "x"`, ": ", "finished Succeeded"}
	if len(statuses) == 2 {
		want = []string{want[0], want[2]}
	}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("events %q, want %q", statuses, want)
	}
	if stored[0] != statuses[0] {
		t.Errorf("stored when reported: %q, want %q", stored[0], statuses[0])
	}
}
