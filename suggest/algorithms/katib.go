package algorithms

import (
	"math"

	"github.com/tune-hpo/tune/suggest"
)

// The settings Katib's suggestion services accept for the algorithms tune
// does not implement yet, and how each value is checked.
var (
	inf = math.Inf(1)

	// dartsSettings are suggestion-darts's.
	dartsSettings = map[string]suggest.ValueCheck{
		"num_epochs":         suggest.IntAtLeast(1),
		"w_lr":               suggest.FloatIn(0, inf, false, false),
		"w_lr_min":           suggest.FloatIn(0, inf, false, false),
		"w_momentum":         suggest.FloatIn(0, inf, false, false),
		"w_weight_decay":     suggest.FloatIn(0, inf, false, false),
		"w_grad_clip":        suggest.FloatIn(0, inf, false, false),
		"alpha_lr":           suggest.FloatIn(0, inf, false, false),
		"alpha_weight_decay": suggest.FloatIn(0, inf, false, false),
		"batch_size":         suggest.OrNone(suggest.IntAtLeast(1)),
		"num_workers":        suggest.IntAtLeast(0),
		"init_channels":      suggest.IntAtLeast(1),
		"print_step":         suggest.IntAtLeast(1),
		"num_nodes":          suggest.IntAtLeast(1),
		"stem_multiplier":    suggest.IntAtLeast(1),
	}

	// pbtSettings are suggestion-pbt's.
	pbtSettings = map[string]suggest.ValueCheck{
		"suggestion_trial_dir": suggest.AnyValue,
		"n_population":         suggest.IntAtLeast(5),
		"truncation_threshold": suggest.FloatIn(0, 1, false, false),
		"resample_probability": suggest.FloatIn(0, 1, false, false),
	}
)
