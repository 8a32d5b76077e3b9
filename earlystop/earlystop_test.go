package earlystop_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/earlystop"
	"github.com/tune-hpo/tune/metrics"
	"github.com/tune-hpo/tune/suggest"
)

func TestNames(t *testing.T) {
	if got := earlystop.Names(); !slices.Equal(got, []string{"medianstop"}) {
		t.Errorf("Names() = %v, want [medianstop]", got)
	}
	for _, name := range earlystop.Names() {
		if _, err := earlystop.New(name, nil, suggest.Maximize); err != nil {
			t.Errorf("New(%q) with default settings: %v", name, err)
		}
		if _, ok := earlystop.Settings(name); !ok {
			t.Errorf("Settings(%q) unknown", name)
		}
	}
	if _, err := earlystop.New("hyperband", nil, suggest.Maximize); err == nil || !strings.Contains(err.Error(), "medianstop") {
		t.Errorf("New(hyperband) error %v, want one naming the allowed medianstop", err)
	}
	if _, ok := earlystop.Settings("hyperband"); ok {
		t.Error("Settings(hyperband) known")
	}
}

func TestSettings(t *testing.T) {
	checks, _ := earlystop.Settings(earlystop.MedianStop)
	var names []string
	for name := range checks {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"min_trials_required", "start_step"}) {
		t.Fatalf("medianstop settings %v", names)
	}
	for _, tc := range []struct {
		value string
		why   string // "" when accepted
	}{
		{"3", ""},
		{" 1 ", ""},
		{"0", "must be at least 1, got 0"},
		{"x", `"x" is not an integer`},
	} {
		err := checks["start_step"](tc.value)
		if (err == nil) != (tc.why == "") || err != nil && err.Error() != tc.why {
			t.Errorf("start_step %q: %v, want %q", tc.value, err, tc.why)
		}
	}
}

// TestMedianStopTrials: the rule follows each running trial by name,
// compares it only with trials that succeeded, and forgets a trial once it
// is complete.
func TestMedianStopTrials(t *testing.T) {
	rule, err := earlystop.New(earlystop.MedianStop, map[string]string{"min_trials_required": "2", "start_step": "2"}, suggest.Maximize)
	if err != nil {
		t.Fatal(err)
	}
	report := func(trial string, values ...float64) {
		for _, v := range values {
			rule.Observe(trial, metrics.Log{Metric: "accuracy", Value: v, Step: -1})
		}
	}
	report("good-1", 0.5, 0.6)
	report("good-2", 0.6, 0.7)
	report("failed", 0.9, 0.9)
	report("slow", 0.1, 0.1)
	rule.Complete("good-1", true)
	rule.Complete("failed", false)
	if stop, msg := rule.Check("slow"); stop {
		t.Fatalf("stopped with one trial succeeded: %s", msg)
	}
	rule.Complete("good-2", true)
	stop, msg := rule.Check("slow")
	if !stop || !strings.Contains(msg, "0.1, is worse than 0.6") {
		t.Errorf("Check(slow) = %v, %q; want a stop below the median 0.6", stop, msg)
	}
	rule.Complete("slow", false)
	if stop, _ := rule.Check("slow"); stop {
		t.Error("a completed trial is still checked")
	}
	if stop, _ := rule.Check("unknown"); stop {
		t.Error("a trial that reported nothing is stopped")
	}
}
