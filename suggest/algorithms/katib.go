package algorithms

import "github.com/tune-hpo/tune/suggest"

// The settings Katib's suggestion services accept for the algorithms tune
// does not implement yet, and how each value is checked.
var (
	// pbtSettings are suggestion-pbt's.
	pbtSettings = map[string]suggest.ValueCheck{
		"suggestion_trial_dir": suggest.AnyValue,
		"n_population":         suggest.IntAtLeast(5),
		"truncation_threshold": suggest.FloatIn(0, 1, false, false),
		"resample_probability": suggest.FloatIn(0, 1, false, false),
	}
)
