package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tune-hpo/tune/experiment"
	"github.com/tune-hpo/tune/store"
	"github.com/tune-hpo/tune/trial"
	"github.com/tune-hpo/tune/trial/local"
)

// shellExperiment runs script with /bin/sh as each trial, maxTrialCount 2,
// one at a time.
func shellExperiment(t *testing.T, script string) *experiment.Experiment {
	t.Helper()
	return parseFixture(t, "shell.yaml", map[string]any{"Script": script})
}

// TestLogOnFullDiskKeepsParsing writes the trials' stdout.log to /dev/full
// (every write fails with ENOSPC, as on a full disk). The trials, printing
// far more than a pipe holds, must run to the end with their metric parsed
// and one warning each; before, the failed write stopped the copying of the
// trial's output and the trial died of SIGPIPE.
func TestLogOnFullDiskKeepsParsing(t *testing.T) {
	exp := shellExperiment(t, `i=0; while [ $i -lt 3000 ]; do echo "step $i of a long log line, long enough to fill a pipe"; i=$((i+1)); done; echo "loss=$1"`)
	ex, err := local.New(local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var warnings []string
	st := newMemStore()
	r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1.5", "1.25"}}, Executor: ex, TrialRoot: t.TempDir(),
		OnEvent: func(ev experiment.Event) {
			if ev.Kind == experiment.Warning {
				mu.Lock()
				warnings = append(warnings, ev.Message)
				mu.Unlock()
			}
		}}
	experiment.SetOpenLog(r, func(path string) (io.WriteCloser, error) {
		if filepath.Base(path) == "stdout.log" {
			return os.OpenFile("/dev/full", os.O_WRONLY, 0)
		}
		return os.Create(path)
	})
	status, err := r.Run(t.Context(), &experiment.Record{Name: "shell", Spec: *exp})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range st.trials["shell"] {
		if tr.State != trial.Succeeded || tr.Metrics["loss"].Latest != 1.5 && tr.Metrics["loss"].Latest != 1.25 {
			t.Errorf("trial %s: %s %s %q, loss %v; want Succeeded with its loss", tr.Name, tr.State, tr.Reason, tr.Message, tr.Metrics["loss"])
		}
	}
	if status.Phase != experiment.Succeeded || status.TrialsSucceeded != 2 {
		t.Errorf("experiment %s/%s with %d succeeded, want Succeeded with 2", status.Phase, status.Reason, status.TrialsSucceeded)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "cannot write its stdout.log") || !strings.Contains(warnings[0], "no space left on device") {
		t.Errorf("warnings %q, want one per trial saying stdout.log cannot be written", warnings)
	}
}

// emfileExecutor fails every trial as the local executor does when tune
// has run out of file descriptors.
type emfileExecutor struct{}

func (emfileExecutor) Run(context.Context, *trial.Spec, io.Writer, io.Writer) (trial.Result, error) {
	return trial.Result{}, fmt.Errorf("cannot start trial process: %w", &os.SyscallError{Syscall: "pipe2", Err: syscall.EMFILE})
}

// TestInfrastructureFaultStopsWithoutCharging makes tune's own environment
// fail the first trial three ways. The experiment must stop (Stopped,
// ExperimentInfrastructureError, the cause returned) with the trial Killed
// for that reason, not Failed: maxFailedTrialCount (1 here) is not
// charged, and once the cause is gone a resume runs the whole budget.
// Before, the trial was Failed and the experiment ended Failed with
// ExperimentMaxFailedTrialsReached.
func TestInfrastructureFaultStopsWithoutCharging(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, r *experiment.Runner)
		errno error
	}{
		{"log file cannot be opened", func(t *testing.T, r *experiment.Runner) {
			experiment.SetOpenLog(r, func(path string) (io.WriteCloser, error) {
				return nil, &os.PathError{Op: "open", Path: path, Err: syscall.ENOSPC}
			})
		}, syscall.ENOSPC},
		{"process cannot start: EMFILE", func(t *testing.T, r *experiment.Runner) {
			r.Executor = emfileExecutor{}
		}, syscall.EMFILE},
		{"trial directory cannot be created", func(t *testing.T, r *experiment.Runner) {
			r.TrialRoot = filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(r.TrialRoot, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, syscall.ENOTDIR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := testExperiment(t, "  parallelTrialCount: 1\n  maxTrialCount: 2\n  maxFailedTrialCount: 1\n")
			st, err := store.Open(filepath.Join(t.TempDir(), "tune.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1", "2", "3", "4"}}, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
			tc.setup(t, r)
			status, err := r.Run(t.Context(), &experiment.Record{Name: "unit", Spec: *exp})
			if !errors.Is(err, tc.errno) {
				t.Fatalf("Run error = %v, want one wrapping %v", err, tc.errno)
			}
			if status == nil || status.Phase != experiment.Stopped || status.Reason != experiment.ReasonInfrastructureError {
				t.Fatalf("status %+v, want Stopped/%s", status, experiment.ReasonInfrastructureError)
			}
			trials, err := st.Trials(t.Context(), "unit")
			if err != nil {
				t.Fatal(err)
			}
			if len(trials) != 1 || trials[0].State != trial.Killed || trials[0].Reason != experiment.TrialReasonInfrastructure {
				t.Fatalf("stored trials %+v, want one Killed with %s", trials, experiment.TrialReasonInfrastructure)
			}
			if status.TrialsFailed != 0 || status.TrialsKilled != 1 {
				t.Errorf("status counts %d failed, %d killed; want 0 and 1", status.TrialsFailed, status.TrialsKilled)
			}

			// The cause fixed, the experiment resumes and runs its budget.
			rec, err := st.Experiment(t.Context(), "unit")
			if err != nil {
				t.Fatal(err)
			}
			fixed := &experiment.Runner{Store: st, Suggester: listSuggester{[]string{"1", "2", "3", "4"}}, Executor: &scriptExecutor{}, TrialRoot: t.TempDir()}
			status, err = fixed.Resume(t.Context(), rec, trials)
			if err != nil {
				t.Fatal(err)
			}
			if status.Phase != experiment.Succeeded || status.TrialsSucceeded != 2 {
				t.Errorf("after resume: %s/%s, %d succeeded; want Succeeded, 2", status.Phase, status.Reason, status.TrialsSucceeded)
			}
		})
	}
}
