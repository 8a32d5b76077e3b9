package earlystop

import (
	"fmt"
	"strings"

	"github.com/tune-hpo/tune/internal/didyoumean"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

// A Rule decides which running trials to stop, from the objective values
// they report and those of the trials that succeeded. Its methods are safe
// for concurrent use: Observe is called from the trials' goroutines while
// Check and Complete run elsewhere.
type Rule interface {
	// Observe records an objective value the running trial named trial
	// reported. A value without a step (Step < 0) is at step "number of
	// values so far"; one at or before the trial's last step counts at
	// that step.
	Observe(trial string, l metrics.Log)
	// Complete tells the rule that trial ended: when succeeded, its values
	// count in later checks of other trials; either way the rule forgets
	// it as a running trial.
	Complete(trial string, succeeded bool)
	// Check says whether the running trial should stop now and, when it
	// should, why, as a message for the user.
	Check(trial string) (stop bool, msg string)
}

// MedianStop is the name of the median stopping rule.
const MedianStop = "medianstop"

// Names returns the names Katib accepts in spec.earlyStopping.algorithmName.
func Names() []string {
	return []string{MedianStop}
}

// New returns the rule named name, with its settings (Katib's
// algorithmSettings, by name), for an objective to reach goal.
func New(name string, settings map[string]string, goal suggest.Goal) (Rule, error) {
	switch name {
	case MedianStop:
		return newMedianStop(settings, goal)
	}
	return nil, fmt.Errorf("unknown early stopping algorithm %q (allowed: %s)%s", name, strings.Join(Names(), ", "), didyoumean.Hint(name, Names()))
}

// Settings returns the settings rule name accepts, each with a check of its
// value that returns a lowercase reason, and whether name is a rule.
// Settings not listed are errors.
func Settings(name string) (map[string]suggest.ValueCheck, bool) {
	switch name {
	case MedianStop:
		return map[string]suggest.ValueCheck{
			"min_trials_required": suggest.IntAtLeast(1),
			"start_step":          suggest.IntAtLeast(1),
		}, true
	}
	return nil, false
}
