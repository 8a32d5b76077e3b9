package algorithms

import (
	"math"

	"github.com/tune-hpo/tune/suggest"
)

// The settings Katib's suggestion services accept for the algorithms tune
// does not implement yet, and how each value is checked.
var (
	inf = math.Inf(1)

	// enasSettings are suggestion-enas's.
	enasSettings = map[string]suggest.ValueCheck{
		"controller_hidden_size":     suggest.IntAtLeast(1),
		"controller_temperature":     suggest.OrNone(suggest.FloatIn(0, inf, true, false)),
		"controller_tanh_const":      suggest.OrNone(suggest.FloatIn(0, inf, true, false)),
		"controller_entropy_weight":  suggest.OrNone(suggest.FloatIn(0, inf, true, false)),
		"controller_baseline_decay":  suggest.FloatIn(0, 1, true, false),
		"controller_learning_rate":   suggest.FloatIn(0, 1, true, false),
		"controller_skip_target":     suggest.FloatIn(0, 1, true, false),
		"controller_skip_weight":     suggest.OrNone(suggest.FloatIn(0, inf, true, false)),
		"controller_train_steps":     suggest.IntAtLeast(1),
		"controller_log_every_steps": suggest.IntAtLeast(1),
	}

	// pbtSettings are suggestion-pbt's.
	pbtSettings = map[string]suggest.ValueCheck{
		"suggestion_trial_dir": suggest.AnyValue,
		"n_population":         suggest.IntAtLeast(5),
		"truncation_threshold": suggest.FloatIn(0, 1, false, false),
		"resample_probability": suggest.FloatIn(0, 1, false, false),
	}
)
