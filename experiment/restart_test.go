package experiment_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/experiment"
)

// TestCheckRestart applies Katib's webhook rules for an edited Experiment
// to stored experiments in each end state, with each resumePolicy.
func TestCheckRestart(t *testing.T) {
	spec := func(policy string, max, failed int) *experiment.Experiment {
		extra := fmt.Sprintf("  parallelTrialCount: 1\n  maxTrialCount: %d\n  maxFailedTrialCount: %d\n", max, failed)
		if policy != "" {
			extra += "  resumePolicy: " + policy + "\n"
		}
		return testExperiment(t, extra)
	}
	stored := func(policy string, phase experiment.Phase, reason string) *experiment.Record {
		return &experiment.Record{Name: "unit", Spec: *spec(policy, 3, 1), Status: experiment.Status{Phase: phase, Reason: reason}}
	}
	const (
		ok        = ""
		policyErr = "spec.resumePolicy"
		maxErr    = "spec.maxTrialCount"
	)
	for _, tc := range []struct {
		name     string
		old      *experiment.Record
		new      *experiment.Experiment
		finished int
		want     string // the field named, or ok
	}{
		{"unchanged budget of a Never experiment", stored("", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("", 3, 1), 3, ok},
		{"Never, more trials", stored("Never", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("Never", 5, 1), 3, policyErr},
		{"default policy, more trials", stored("", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("", 5, 1), 3, policyErr},
		{"LongRunning, more trials", stored("LongRunning", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("LongRunning", 5, 1), 3, ok},
		{"FromVolume, more trials", stored("FromVolume", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("FromVolume", 4, 1), 3, ok},
		{"LongRunning, only maxFailedTrialCount", stored("LongRunning", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("LongRunning", 3, 2), 3, maxErr},
		{"LongRunning, fewer trials", stored("LongRunning", experiment.Succeeded, experiment.ReasonMaxTrialsReached), spec("LongRunning", 2, 1), 3, maxErr},
		{"LongRunning, goal reached", stored("LongRunning", experiment.Succeeded, experiment.ReasonGoalReached), spec("LongRunning", 5, 1), 1, policyErr},
		{"LongRunning, grid exhausted", stored("LongRunning", experiment.Succeeded, experiment.ReasonSuggestionEnd), spec("LongRunning", 5, 1), 2, policyErr},
		{"LongRunning, too many failures", stored("LongRunning", experiment.Failed, experiment.ReasonMaxFailedReached), spec("LongRunning", 3, 3), 1, policyErr},
		// tune's own end states are not Katib completions.
		{"Never, interrupted", stored("", experiment.Stopped, experiment.ReasonInterrupted), spec("", 5, 1), 2, ok},
		{"Never, interrupted, fewer trials", stored("", experiment.Stopped, experiment.ReasonInterrupted), spec("", 2, 1), 2, maxErr},
		{"Never, store error", stored("", experiment.Failed, experiment.ReasonStoreError), spec("", 5, 1), 2, ok},
		{"Never, runner died", stored("", experiment.Running, experiment.ReasonRunning), spec("", 4, 1), 2, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := experiment.CheckRestart(tc.old, tc.new, tc.finished)
			switch {
			case tc.want == ok && err != nil:
				t.Errorf("CheckRestart = %v, want nil", err)
			case tc.want != ok && (!errors.Is(err, experiment.ErrNotRestartable) || !strings.Contains(err.Error(), tc.want+":")):
				t.Errorf("CheckRestart = %v, want ErrNotRestartable naming %s", err, tc.want)
			}
		})
	}
}
