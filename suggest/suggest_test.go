package suggest_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
)

func TestGoalBetter(t *testing.T) {
	nan := math.NaN()
	for name, tc := range map[string]struct {
		goal suggest.Goal
		a, b float64
		want bool
	}{
		"min lower":        {suggest.Minimize, 1, 2, true},
		"min higher":       {suggest.Minimize, 2, 1, false},
		"min equal":        {suggest.Minimize, 1, 1, false},
		"max higher":       {suggest.Maximize, 2, 1, true},
		"max lower":        {suggest.Maximize, 1, 2, false},
		"nan never better": {suggest.Maximize, nan, 1, false},
		"beats nan":        {suggest.Minimize, 1e300, nan, true},
		"nan vs nan":       {suggest.Minimize, nan, nan, false},
	} {
		if got := tc.goal.Better(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Better(%v, %v) = %v", name, tc.a, tc.b, got)
		}
	}
}

func TestAssignmentKey(t *testing.T) {
	a := suggest.Assignment{"b": "2", "a": "1"}
	b := suggest.Assignment{"a": "1", "b": "2"}
	if a.Key() != b.Key() {
		t.Errorf("equal assignments, keys %q and %q", a.Key(), b.Key())
	}
	// A value containing the separator text of another layout must not collide.
	c := suggest.Assignment{"a": "1\x00b=2"}
	if c.Key() == a.Key() {
		t.Errorf("distinct assignments share key %q", a.Key())
	}
	if (suggest.Assignment{"a": "1", "b": "3"}).Key() == a.Key() {
		t.Error("different values share a key")
	}
}

func TestSpaceValidate(t *testing.T) {
	ok := suggest.Param{Name: "x", Type: suggest.Double, Min: 0, Max: 1}
	for name, tc := range map[string]struct {
		space suggest.Space
		want  string
	}{
		"valid":       {suggest.Space{ok, {Name: "c", Type: suggest.Categorical, Values: []string{"a"}}}, ""},
		"duplicate":   {suggest.Space{ok, ok}, "declared twice"},
		"min > max":   {suggest.Space{{Name: "x", Type: suggest.Int, Min: 2, Max: 1}}, "min 2 > max 1"},
		"empty list":  {suggest.Space{{Name: "d", Type: suggest.Discrete}}, "empty list"},
		"log at zero": {suggest.Space{{Name: "x", Type: suggest.Double, Min: 0, Max: 1, Distribution: suggest.LogUniform}}, "min > 0"},
		"bad type":    {suggest.Space{{Name: "x", Type: "float"}}, "unknown type"},
		"no name":     {suggest.Space{{Type: suggest.Double}}, "empty name"},
	} {
		err := tc.space.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want %q", name, err, tc.want)
		}
	}
}

func TestStepHelpers(t *testing.T) {
	n, err := suggest.StepCount(0.01, 0.05, 0.005)
	if err != nil || n != 9 {
		t.Errorf("StepCount(0.01, 0.05, 0.005) = %d, %v; want 9", n, err)
	}
	if got := suggest.FormatFloat(suggest.StepValue(0.01, 0.05, 0.005, 3)); got != "0.025" {
		t.Errorf("StepValue k=3 formats as %q, want 0.025", got)
	}
	if got := suggest.StepValue(0.01, 0.05, 0.005, 8); got != 0.05 {
		t.Errorf("last StepValue = %v, want the bound 0.05", got)
	}
	if _, err := suggest.StepCount(0, 1, 0); err == nil {
		t.Error("StepCount with step 0 succeeded")
	}
	lo, hi, step, n, err := suggest.IntRange(suggest.Param{Name: "i", Type: suggest.Int, Min: -3, Max: 7, Step: 2})
	if err != nil || lo != -3 || hi != 7 || step != 2 || n != 6 {
		t.Errorf("IntRange = %d %d %d %d %v; want -3 7 2 6", lo, hi, step, n, err)
	}
	if _, _, _, _, err := suggest.IntRange(suggest.Param{Name: "i", Type: suggest.Int, Min: 0, Max: 5, Step: 1.5}); err == nil {
		t.Error("IntRange with a fractional step succeeded")
	}
}

func TestSeedOnly(t *testing.T) {
	seed, ok, err := suggest.SeedOnly("alg", map[string]string{"random_state": "42"})
	if err != nil || !ok || seed != 42 {
		t.Errorf("SeedOnly(random_state=42) = %d, %v, %v", seed, ok, err)
	}
	if _, ok, err := suggest.SeedOnly("alg", nil); err != nil || ok {
		t.Errorf("SeedOnly(nil) = %v, %v; want no seed and no error", ok, err)
	}
	_, _, err = suggest.SeedOnly("alg", map[string]string{"random_state": "-1", "n": "3"})
	for _, want := range []string{"alg: unknown setting \"n\"", "random_state=\"-1\"", "non-negative integer"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("SeedOnly error %v lacks %q", err, want)
		}
	}
}

func TestCheckRequestAndPickSeed(t *testing.T) {
	if err := suggest.CheckRequest(t.Context(), "alg", suggest.Request{N: 0}); err == nil || !strings.Contains(err.Error(), "alg: n is 0") {
		t.Errorf("N=0: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := suggest.CheckRequest(ctx, "alg", suggest.Request{N: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := suggest.CheckRequest(t.Context(), "alg", suggest.Request{N: 1}); err != nil {
		t.Errorf("valid request: %v", err)
	}
	req := suggest.Request{Seed: 5}
	if req.PickSeed(9, true) != 9 || req.PickSeed(9, false) != 5 {
		t.Error("PickSeed does not prefer the setting over the request seed")
	}
}
