package didyoumean

import "testing"

func TestClosest(t *testing.T) {
	algos := []string{"random", "grid", "bayesianoptimization", "tpe", "multivariate-tpe", "cmaes", "sobol", "hyperband", "asha"}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"radnom", "random", true},
		{"Random", "random", true},                 // case only
		{"bayesian", "bayesianoptimization", true}, // prefix
		{"bayesianoptimisation", "bayesianoptimization", true},
		{"hyperbnd", "hyperband", true},
		{"tpee", "tpe", true},
		{"cma-es", "cmaes", true},
		{"gradient", "", false},
		{"sbol", "sobol", true},
		{"rnd", "", false}, // short: only one edit allowed
		{"tpx", "tpe", true},
		{"xyz", "", false},
		{"", "", false},
		{"random", "", false}, // exact: nothing to suggest
	} {
		got, ok := Closest(tc.name, algos)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestClosestPrefersNearer(t *testing.T) {
	if got, _ := Closest("los", []string{"accuracy", "loss", "lost_count"}); got != "loss" {
		t.Errorf("Closest(los) = %q, want loss (distance 1 beats the tie at 1 later, and prefix matches)", got)
	}
	if got, _ := Closest("acuracy", []string{"loss", "accuracy", "val_accuracy"}); got != "accuracy" {
		t.Errorf("Closest(acuracy) = %q, want accuracy", got)
	}
}

func TestHint(t *testing.T) {
	if got, want := Hint("StdOu", []string{"StdOut", "File"}), `; did you mean "StdOut"?`; got != want {
		t.Errorf("Hint = %q, want %q", got, want)
	}
	if got := Hint("Zeta", []string{"StdOut", "File"}); got != "" {
		t.Errorf("Hint with no near candidate = %q, want empty", got)
	}
}
