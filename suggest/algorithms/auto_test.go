package algorithms_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tune-hpo/tune/suggest"
	"github.com/tune-hpo/tune/suggest/algorithms"
)

// doubles returns a space of d doubles on [0, 1].
func doubles(d int) suggest.Space {
	s := make(suggest.Space, d)
	for i := range s {
		s[i] = suggest.Param{Name: "x" + string(rune('a'+i)), Type: suggest.Double, Max: 1}
	}
	return s
}

func intp(n int) *int { return &n }

// TestChoose is auto's rule table (Choose's documentation and
// docs/suggest.md, "algorithmName: auto"): each case names the rule it
// holds; removing or changing a rule fails it.
func TestChoose(t *testing.T) {
	categorical := suggest.Space{
		{Name: "opt", Type: suggest.Categorical, Values: []string{"sgd", "adam"}},
		{Name: "act", Type: suggest.Categorical, Values: []string{"relu", "tanh", "gelu"}},
	}
	tests := map[string]struct {
		space         suggest.Space
		max, parallel *int
		chosen        string // the stored choice
		want          string
	}{
		// Rule 1: every trial proposed before any result.
		"parallel equals budget":           {space: space, max: intp(50), parallel: intp(50), want: "sobol"},
		"one trial, one slot":              {space: space, max: intp(1), parallel: intp(1), want: "sobol"},
		"parallel above budget":            {space: space, max: intp(4), parallel: intp(8), want: "sobol"},
		"default parallelism (3) covers 3": {space: space, max: intp(3), want: "sobol"},
		"categorical space, all at once":   {space: categorical, max: intp(6), parallel: intp(6), want: "sobol"},
		"16 doubles, all at once":          {space: doubles(16), max: intp(50), parallel: intp(50), want: "sobol"},
		// Rule 2: bayesianoptimization otherwise, whatever the space.
		"no budget":                       {space: space, want: "bayesianoptimization"},
		"no budget, many in parallel":     {space: space, parallel: intp(1000), want: "bayesianoptimization"},
		"sequential":                      {space: space, max: intp(100), parallel: intp(1), want: "bayesianoptimization"},
		"one slot short of the budget":    {space: space, max: intp(51), parallel: intp(50), want: "bayesianoptimization"},
		"default parallelism (3) below 4": {space: space, max: intp(4), want: "bayesianoptimization"},
		"2 doubles":                       {space: doubles(2), max: intp(100), parallel: intp(1), want: "bayesianoptimization"},
		"8 doubles: no rule picks tpe":    {space: doubles(8), max: intp(100), parallel: intp(1), want: "bayesianoptimization"},
		"16 doubles: no rule picks cmaes": {space: doubles(16), max: intp(100), parallel: intp(4), want: "bayesianoptimization"},
		"categorical space":               {space: categorical, max: intp(20), parallel: intp(2), want: "bayesianoptimization"},
		"large budget":                    {space: space, max: intp(10000), parallel: intp(8), want: "bayesianoptimization"},
		// A stored choice is kept, whatever the budget now says.
		"kept bayesianoptimization, now all at once": {space: space, max: intp(4), parallel: intp(8), chosen: "bayesianoptimization", want: "bayesianoptimization"},
		"kept sobol, now room to learn":              {space: space, max: intp(100), parallel: intp(1), chosen: "sobol", want: "sobol"},
		// A stored name auto never chooses is not kept: the rules apply.
		"stored tpe is not auto's":    {space: space, max: intp(4), parallel: intp(8), chosen: "tpe", want: "sobol"},
		"stored name is no algorithm": {space: space, max: intp(100), parallel: intp(1), chosen: "bogus", want: "bayesianoptimization"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := algorithms.Experiment{Space: tc.space, MaxTrialCount: tc.max, ParallelTrialCount: tc.parallel, Chosen: tc.chosen}
			c := algorithms.Choose(e)
			if c.Algorithm != tc.want {
				t.Errorf("Choose = %s (%s), want %s", c.Algorithm, c.Reason, tc.want)
			}
			if !slices.Contains(algorithms.Choices(), c.Algorithm) {
				t.Errorf("Choose = %s, not among Choices %v", c.Algorithm, algorithms.Choices())
			}
			if kept := strings.Contains(c.Reason, "kept"); kept != (tc.chosen == tc.want) {
				t.Errorf("reason %q: says kept %v, want %v", c.Reason, kept, tc.chosen == tc.want)
			}
			if c.Reason == "" || strings.ContainsAny(c.Reason, "\n\r") || !strings.Contains(c.Reason, "docs/suggest.md#algorithmname-auto") {
				t.Errorf("reason %q: want one line pointing at docs/suggest.md#algorithmname-auto", c.Reason)
			}
			if again := algorithms.Choose(e); again != c {
				t.Errorf("Choose is not deterministic: %v, then %v", c, again)
			}
			// What auto chooses is runnable wherever auto is valid.
			if ps := algorithms.Check(c.Algorithm, e); ps != nil {
				t.Errorf("Check(%s) = %v", c.Algorithm, ps)
			}
		})
	}
}

// TestNewFor: NewFor builds what Choose chose for auto, with auto's
// random_state passed on, and any other name as New does.
func TestNewFor(t *testing.T) {
	seven := []algorithms.Setting{{Name: "random_state", Value: "0"}, {Name: "random_state", Value: "7"}}
	req := suggest.Request{Space: space, N: 5, Seed: 1}
	suggestions := func(s suggest.Suggester) []suggest.Assignment {
		t.Helper()
		as, err := s.Suggest(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	want := func(name string) []suggest.Assignment {
		t.Helper()
		s, err := algorithms.New(name, map[string]string{"random_state": "7"})
		if err != nil {
			t.Fatal(err)
		}
		return suggestions(s)
	}
	for _, tc := range []struct {
		name, runs    string
		max, parallel int
	}{
		{"auto", "sobol", 4, 4},
		{"auto", "bayesianoptimization", 40, 4},
		{"random", "random", 4, 4},
	} {
		e := algorithms.Experiment{Settings: seven, Space: space, MaxTrialCount: &tc.max, ParallelTrialCount: &tc.parallel}
		s, c, err := algorithms.NewFor(tc.name, e)
		if err != nil {
			t.Fatalf("NewFor(%s, %d of %d) = %v", tc.name, tc.parallel, tc.max, err)
		}
		if c.Algorithm != tc.runs || (c.Reason == "") != (tc.name != algorithms.Auto) {
			t.Errorf("NewFor(%s, %d of %d) chose %+v, want %s", tc.name, tc.parallel, tc.max, c, tc.runs)
		}
		if got, want := suggestions(s), want(tc.runs); !slices.EqualFunc(got, want, maps.Equal) {
			t.Errorf("NewFor(%s, %d of %d) suggests %v; %s with random_state 7 suggests %v", tc.name, tc.parallel, tc.max, got, tc.runs, want)
		}
	}
}

// TestAutoSettings: auto takes random_state only; another setting is a
// SettingError naming it, which Check places at that setting.
func TestAutoSettings(t *testing.T) {
	e := algorithms.Experiment{Space: space, Settings: []algorithms.Setting{{Name: "random_state", Value: "1"}, {Name: "n_initial_points", Value: "5"}}}
	_, _, err := algorithms.NewFor(algorithms.Auto, e)
	se, ok := errors.AsType[*suggest.SettingError](err)
	if !ok || se.Name != "n_initial_points" || !strings.Contains(err.Error(), "name the algorithm instead of auto") {
		t.Errorf("NewFor(auto, n_initial_points) = %v, want a SettingError for n_initial_points saying what to do", err)
	}
	ps := algorithms.Check(algorithms.Auto, e)
	if len(ps) != 1 || ps[0].Where != algorithms.InSetting || ps[0].Index != 1 {
		t.Errorf("Check(auto, n_initial_points) = %+v, want one problem at setting 1", ps)
	}
	if _, err := algorithms.New(algorithms.Auto, map[string]string{"random_state": "x"}); err == nil {
		t.Error("New(auto, random_state=x) succeeded")
	}
}
