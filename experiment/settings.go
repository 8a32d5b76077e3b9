package experiment

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// algorithms lists the algorithm names Katib accepts in
// spec.algorithm.algorithmName.
var algorithms = []string{
	"random", "grid", "bayesianoptimization", "tpe", "multivariate-tpe",
	"cmaes", "sobol", "hyperband", "enas", "darts", "pbt",
	"asha", // tune's addition: asynchronous successive halving
}

// checkFunc checks one setting value, returning a lowercase reason.
type checkFunc func(v string) error

// intAtLeast accepts integers ≥ lo.
func intAtLeast(lo int64) checkFunc {
	return func(v string) error {
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		if i < lo {
			return fmt.Errorf("must be at least %d, got %d", lo, i)
		}
		return nil
	}
}

// floatIn accepts finite numbers in the interval from lo to hi; open says
// which ends are excluded. Infinite bounds mean unbounded.
func floatIn(lo, hi float64, openLo, openHi bool) checkFunc {
	return func(v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a number", v)
		}
		if f < lo || f > hi || (openLo && f == lo) || (openHi && f == hi) {
			l, h := "[", "]"
			if openLo {
				l = "("
			}
			if openHi {
				h = ")"
			}
			return fmt.Errorf("must be in %s%v, %v%s, got %v", l, lo, hi, h, f)
		}
		return nil
	}
}

// orNone also accepts the word None, as Katib's ENAS service does.
func orNone(c checkFunc) checkFunc {
	return func(v string) error {
		if v == "None" {
			return nil
		}
		return c(v)
	}
}

// anyValue accepts everything.
func anyValue(string) error { return nil }

var inf = math.Inf(1)

// algorithmSettings holds, for each algorithm tune does not implement yet,
// the settings Katib's suggestion service for it accepts and how each value
// is checked; settings not listed are errors. Its keys are the algorithm
// names Katib knows.
var algorithmSettings = map[string]map[string]checkFunc{
	// The algorithms tune implements check their own settings (Katib's,
	// plus tune's own): see suggest/algorithms and each algorithm's package.
	"random":               nil,
	"grid":                 nil,
	"bayesianoptimization": nil,
	"tpe":                  nil,
	"multivariate-tpe":     nil,
	"cmaes":                nil,
	"sobol":                nil,
	"asha":                 nil,
	"hyperband":            nil,
	// suggestion-enas.
	"enas": {
		"controller_hidden_size":     intAtLeast(1),
		"controller_temperature":     orNone(floatIn(0, inf, true, false)),
		"controller_tanh_const":      orNone(floatIn(0, inf, true, false)),
		"controller_entropy_weight":  orNone(floatIn(0, inf, true, false)),
		"controller_baseline_decay":  floatIn(0, 1, true, false),
		"controller_learning_rate":   floatIn(0, 1, true, false),
		"controller_skip_target":     floatIn(0, 1, true, false),
		"controller_skip_weight":     orNone(floatIn(0, inf, true, false)),
		"controller_train_steps":     intAtLeast(1),
		"controller_log_every_steps": intAtLeast(1),
	},
	// suggestion-darts.
	"darts": {
		"num_epochs":         intAtLeast(1),
		"w_lr":               floatIn(0, inf, false, false),
		"w_lr_min":           floatIn(0, inf, false, false),
		"w_momentum":         floatIn(0, inf, false, false),
		"w_weight_decay":     floatIn(0, inf, false, false),
		"w_grad_clip":        floatIn(0, inf, false, false),
		"alpha_lr":           floatIn(0, inf, false, false),
		"alpha_weight_decay": floatIn(0, inf, false, false),
		"batch_size":         orNone(intAtLeast(1)),
		"num_workers":        intAtLeast(0),
		"init_channels":      intAtLeast(1),
		"print_step":         intAtLeast(1),
		"num_nodes":          intAtLeast(1),
		"stem_multiplier":    intAtLeast(1),
	},
	// suggestion-pbt.
	"pbt": {
		"suggestion_trial_dir": anyValue,
		"n_population":         intAtLeast(5),
		"truncation_threshold": floatIn(0, 1, false, false),
		"resample_probability": floatIn(0, 1, false, false),
	},
}

// requiredSettings are the settings an algorithm cannot do without.
var requiredSettings = map[string][]string{
	"hyperband": {"r_l", "resource_name"},
	"pbt":       {"suggestion_trial_dir", "n_population", "truncation_threshold"},
}
