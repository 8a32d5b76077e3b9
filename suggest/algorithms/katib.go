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
)
